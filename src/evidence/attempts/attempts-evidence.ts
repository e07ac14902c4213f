import type { CoverageGap } from '../../inventory/source.js';
import type { Inventory } from '../../model/inventory.js';
import type { ScheduledJob } from '../../model/types.js';
import type { EvidenceStep } from '../evidence.js';
import { readRefusedAttempts, type AttemptsReadOptions, type AttemptsReadResult } from './reader.js';

export type AttemptsEvidenceOptions = Omit<AttemptsReadOptions, 'from'> & {
  /** `projects` (each project's own logs) or a log view name. */
  from: 'projects' | string;
  /** Projects named by the scan's scopes, read even when the inventory lists no project asset for them. */
  scopeProjects?: readonly string[];
};

/**
 * Refused attempts from Scheduler's execution logs, read once before judging and attached to
 * each job as `job.attempts`. A job of a project whose logs were not read gets nothing, and
 * `last-attempt-authorized` judges it from `Job.status` as without this evidence.
 */
export class AttemptsEvidence implements EvidenceStep {
  readonly name = 'attempts';
  private read?: AttemptsReadResult;
  private inventory?: Inventory;
  private readonly extraGaps = new Map<string, CoverageGap>();

  constructor(private readonly opts: AttemptsEvidenceOptions) {}

  async prepare(inventory: Inventory): Promise<void> {
    this.inventory = inventory;
    const { from, scopeProjects, ...rest } = this.opts;
    if (from !== 'projects') {
      this.read = await readRefusedAttempts({ ...rest, from: { kind: 'view', view: from } });
      return;
    }
    // Jobs listed page by page after the model is built are not known yet: their projects are.
    const projects = new Set<string>(scopeProjects ?? []);
    for (const job of inventory.jobs) projects.add(inventory.projectId(job.projectId) ?? job.projectId);
    for (const p of inventory.projectsByNumber.values()) projects.add(p.id ?? p.number);
    this.read = await readRefusedAttempts({ ...rest, from: { kind: 'projects', projects: [...projects] } });
  }

  annotate(job: ScheduledJob): void {
    const read = this.read;
    if (!read) return;
    // A project read by its number covers the jobs that name it by id, and the other way round.
    const covered = read.covered === 'all' || read.covered.has(job.projectId) || read.covered.has(this.inventory?.projectNumber(job.projectId) ?? '') || read.covered.has(this.inventory?.projectId(job.projectId) ?? '');
    if (!covered) {
      // A log view that could not be read is one gap, named already: its projects are not others.
      if (this.opts.from !== 'projects') return;
      const scope = `projects/${job.projectId}`;
      if (!read.gaps.some((g) => g.scope === scope) && !this.extraGaps.has(scope)) {
        this.extraGaps.set(scope, { scope, reason: 'Scheduler execution logs not read: the project was not in the inventory before its jobs were listed' });
      }
      return;
    }
    job.attempts = read.counter.peek(job.name) ?? read.counter.empty();
  }

  gaps(): CoverageGap[] {
    return [...(this.read?.gaps ?? []), ...this.extraGaps.values()];
  }

  stats(): Record<string, number> {
    return {
      loggingCalls: this.read?.calls ?? 0,
      refusedAttempts: this.read?.entries ?? 0,
      jobsWithRefusals: this.read?.counter.jobs ?? 0,
      // Named one by one among the coverage gaps.
      unreadableScopes: this.gaps().length,
    };
  }
}
