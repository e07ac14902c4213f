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

/**
 * Nothing could be scanned because Google refused or could not be reached: one message, what to
 * fix. `transient`: a later attempt may succeed (a service unreachable), not a fix the user must make.
 */
export class NothingScannedError extends CronwardenError {
  constructor(
    code: string,
    message: string,
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * No usable Google credentials: none found, a file missing or unreadable, a token refused. Nothing
 * was scanned; the message says what is wrong and the command that fixes it.
 */
export class CredentialsError extends NothingScannedError {}

/**
 * Every scope of an API scan was refused or unreachable before anything was judged: there is no
 * result to report, only the access to grant (or, when `transient`, a service to wait for).
 */
export class AccessError extends NothingScannedError {}

/** The finding state (--state) could not be read or written: findings are still emitted, the run is partial. */
export class StateStoreError extends CronwardenError {}
