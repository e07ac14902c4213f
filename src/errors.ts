/** Typed errors at the edges. Each carries a stable `code` that tests and callers branch on. */
export class CronwardenError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad flags, environment or config file: nothing was scanned. */
export class ConfigurationError extends CronwardenError {}

/** Inventory could not be read (a file, a listing). */
export class InventoryError extends CronwardenError {}

/** Findings could not be delivered to a sink. */
export class PublishError extends CronwardenError {}

/** A remediation plan could not be applied. */
export class RemediationError extends CronwardenError {}

/** A rule broke the engine's contract (unknown message id, plan without declared remediation). */
export class RuleContractError extends CronwardenError {}

/** The finding state (--state) could not be read or written: findings are still emitted, the run is partial. */
export class StateStoreError extends CronwardenError {}
