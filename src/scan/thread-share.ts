import { hash } from 'node:crypto';

/**
 * Which thread of a parallel scan judges a job. Salted so that it is independent of the Cloud
 * Run task shard (which hashes the bare name): with 2 tasks and 2 threads, each thread of each
 * task still gets half of that task's jobs.
 */
export function threadOf(jobName: string, threads: number): number {
  if (threads <= 1) return 0;
  return Buffer.from(hash('sha256', `thread\n${jobName}`, 'hex').slice(0, 8), 'hex').readUInt32BE(0) % threads;
}
