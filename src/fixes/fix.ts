import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob, Target } from '../model/types.js';

/** The fix for one finding, with every value taken from the job and its target. */
export interface Fix {
  /** What to do and why, for this cause (replaces the rule's generic summary). */
  summary: string;
  /** Exact shell commands, in order; each is one line a person can paste. */
  commands: string[];
  /** A Terraform snippet with the job's values, where the change is one Terraform manages. */
  terraform?: string;
}

/** What a rule's `fix` gets: the result it reached, the job, and the job's resolved target. */
export interface FixInput<M extends string = string> {
  status: 'fail' | 'unverifiable';
  messageId: M;
  data: Readonly<Record<string, string | number>>;
  evidence: Readonly<Record<string, unknown>>;
  job: ScheduledJob;
  target: Target;
  /** To tell causes apart (does the account exist?); read only. */
  inventory: Inventory;
}
