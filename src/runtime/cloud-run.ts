import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError } from '../errors.js';

/**
 * What a Cloud Run job tells its container (GCP-FACTS §7): the job, the execution, this task's
 * 0-based index among `taskCount` tasks, and its 0-based retry attempt.
 */
export interface CloudRunTask {
  job?: string;
  execution?: string;
  taskIndex: number;
  taskCount: number;
  attempt: number;
}

/** The reserved variables, by the field each one fills. */
export const CLOUD_RUN_ENV = {
  job: 'CLOUD_RUN_JOB',
  execution: 'CLOUD_RUN_EXECUTION',
  taskIndex: 'CLOUD_RUN_TASK_INDEX',
  taskCount: 'CLOUD_RUN_TASK_COUNT',
  attempt: 'CLOUD_RUN_TASK_ATTEMPT',
} as const;

const count = (what: string, min: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `${what} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min, `${what} must be at least ${min}`);

const CloudRunEnvSchema = z
  .object({
    CLOUD_RUN_JOB: z.string().min(1).optional(),
    CLOUD_RUN_EXECUTION: z.string().min(1).optional(),
    CLOUD_RUN_TASK_INDEX: count('the task index', 0).optional(),
    CLOUD_RUN_TASK_COUNT: count('the task count', 1).optional(),
    CLOUD_RUN_TASK_ATTEMPT: count('the attempt', 0).optional(),
  })
  .superRefine((e, ctx) => {
    const index = e.CLOUD_RUN_TASK_INDEX;
    const total = e.CLOUD_RUN_TASK_COUNT;
    if (index !== undefined && total === undefined) {
      ctx.addIssue({ code: 'custom', path: ['CLOUD_RUN_TASK_COUNT'], message: 'is needed with CLOUD_RUN_TASK_INDEX' });
    }
    if (index !== undefined && total !== undefined && index >= total) {
      ctx.addIssue({ code: 'custom', path: ['CLOUD_RUN_TASK_INDEX'], message: `${index} is not below CLOUD_RUN_TASK_COUNT=${total}` });
    }
  });

/**
 * Reads the Cloud Run job variables; undefined when none is set (not a Cloud Run task). Bad
 * values are a configuration error naming the variable: a task that cannot tell its shard
 * must not guess one, or two tasks would judge the same jobs and others none.
 */
export function readCloudRunTask(env: NodeJS.ProcessEnv): CloudRunTask | undefined {
  const raw = Object.fromEntries(
    Object.values(CLOUD_RUN_ENV)
      .map((name) => [name, env[name]?.trim()] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  if (Object.keys(raw).length === 0) return undefined;
  const parsed = CloudRunEnvSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0] ?? 'CLOUD_RUN_*')}: ${i.message}`);
    throw new ConfigurationError('BAD_CLOUD_RUN_ENV', `invalid Cloud Run task environment:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const task: CloudRunTask = {
    taskIndex: e.CLOUD_RUN_TASK_INDEX ?? 0,
    taskCount: e.CLOUD_RUN_TASK_COUNT ?? 1,
    attempt: e.CLOUD_RUN_TASK_ATTEMPT ?? 0,
  };
  if (e.CLOUD_RUN_JOB) task.job = e.CLOUD_RUN_JOB;
  if (e.CLOUD_RUN_EXECUTION) task.execution = e.CLOUD_RUN_EXECUTION;
  return task;
}

/**
 * The shard (0..count-1) a Scheduler job belongs to: the first four bytes of SHA-256 of its
 * full name, modulo the task count. It depends on the name alone, not on what else the
 * inventory holds, so tasks that list the inventory at slightly different moments still agree
 * on every job they both see. SHA-256 spreads names uniformly; the modulo bias of a 32-bit
 * value is below 2^-20 for any task count Cloud Run allows, so shards differ only by sampling
 * noise (about the square root of jobs per shard).
 */
export function shardOf(jobName: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
  if (count === 1) return 0;
  return createHash('sha256').update(jobName).digest().readUInt32BE(0) % count;
}

/** The scan options that make one task judge only its share of the jobs; empty for a single task. */
export function shardOptions(task: CloudRunTask | undefined): {
  jobFilter?: (jobName: string) => boolean;
  shard?: { index: number; count: number };
} {
  if (!task || task.taskCount <= 1) return {};
  const { taskIndex, taskCount } = task;
  return {
    jobFilter: (jobName) => shardOf(jobName, taskCount) === taskIndex,
    shard: { index: taskIndex, count: taskCount },
  };
}
