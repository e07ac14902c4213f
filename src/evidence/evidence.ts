import type { Finding } from '../findings/schema.js';
import type { CoverageGap } from '../inventory/source.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob } from '../model/types.js';

/**
 * Facts from outside the inventory, joined into the model around judging. `prepare` runs once the
 * inventory is built and before any job is judged; `annotate` adds what was read to a job before
 * its rules run (rules stay pure); `settle` may turn a judged finding's verdict once an outside
 * answer is in (group membership), and is the only step allowed to wait.
 */
export interface EvidenceStep {
  readonly name: string;
  prepare?(inventory: Inventory): Promise<void>;
  annotate?(job: ScheduledJob): void;
  settle?(job: ScheduledJob, findings: Finding[]): Finding[] | Promise<Finding[]>;
  /** Scopes this evidence could not cover: named in the summary, for this evidence only. */
  gaps(): CoverageGap[];
  /** Counters for the summary (calls made, answers, pairs). */
  stats(): Record<string, number>;
}
