import { lstatSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigurationError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { SinkReport } from '../sink.js';
import { DEFAULT_BATCHING, DEFAULT_RETRY, openTopic, rpcErrorInfo } from './client.js';
import { Delivery } from './delivery.js';
import { eventValidator } from './event-schemas.js';
import { isSpoolFileName, readSpoolLines, Spool, SPOOL_SUFFIX } from './spool.js';
import { parseTopicName } from './topic-name.js';

/** Pub/Sub's limits on attributes: 100 of them, keys of 256 bytes, values of 1024. */
const MAX_ATTRIBUTES = 100;
const MAX_KEY_BYTES = 256;
const MAX_VALUE_BYTES = 1024;

export interface ReplayTuning {
  maxReconnectBackoffMs?: number;
  apiEndpoint?: string;
  retry?: Partial<typeof DEFAULT_RETRY>;
  batching?: Partial<typeof DEFAULT_BATCHING>;
  pauseAfterOutageMs?: number;
}

export interface ReplayOptions extends ReplayTuning {
  /** A spool file, or a directory of them (`*.spool.jsonl`). */
  spoolPath: string;
  /** Publish here instead of the topic in each file's header. */
  topic?: string;
  logger: Logger;
}

/** Why a line is not published; it is kept as it is. */
export function recordProblem(raw: string): { problem: string } | { attributes: Record<string, string>; data: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { problem: 'not JSON' };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'not a spool record (an object)' };
  const { attributes, data } = parsed as { attributes?: unknown; data?: unknown };
  if (typeof data !== 'string') return { problem: '`data` is not a string' };
  if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)) return { problem: '`attributes` is not an object' };
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES) return { problem: `more than ${MAX_ATTRIBUTES} attributes` };
  for (const [key, value] of entries) {
    if (typeof value !== 'string') return { problem: `attribute ${JSON.stringify(key.slice(0, 60))} is not a string` };
    if (key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES || Buffer.byteLength(value) > MAX_VALUE_BYTES) return { problem: `attribute ${JSON.stringify(key.slice(0, 60))} is over Pub/Sub's size limits` };
  }
  const attrs = attributes as Record<string, string>;
  const eventType = attrs.eventType;
  if (eventType === undefined) return { problem: 'no eventType attribute' };
  const validate = eventValidator(eventType);
  if (!validate) return { problem: `eventType ${JSON.stringify(eventType.slice(0, 60))} has no schema in this version` };
  const problem = validate(data, attrs);
  return problem ? { problem } : { attributes: { ...attrs }, data };
}

/**
 * The spool files a path names: itself, or the `*.spool.jsonl` regular files of a directory,
 * oldest name first, and the spool-named entries of the directory that are not regular files
 * (a symbolic link is never followed: it could point anywhere).
 */
function spoolFiles(path: string): { files: string[]; refused: string[] } {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    throw new ConfigurationError('NO_SPOOL', `replay-spool: ${path} does not exist`);
  }
  if (st.isSymbolicLink()) throw new ConfigurationError('SPOOL_UNSAFE', `replay-spool: ${path} is a symbolic link; give the file or directory itself`);
  if (st.isFile()) return { files: [path], refused: [] };
  if (!st.isDirectory()) throw new ConfigurationError('NO_SPOOL', `replay-spool: ${path} is neither a file nor a directory`);
  const entries = readdirSync(path, { withFileTypes: true }).filter((e) => isSpoolFileName(e.name));
  return {
    files: entries.filter((e) => e.isFile()).map((e) => join(path, e.name)).sort(),
    refused: entries.filter((e) => !e.isFile()).map((e) => join(path, e.name)).sort(),
  };
}

/**
 * Publishes the records of one spool file or of every spool file in a directory again, unchanged
 * (same data and attributes, so consumers de-duplicate replays as they do redeliveries), to the
 * topic on the command line or the one in the file's header, never to one a record names. Each
 * record is checked against the schema of its `eventType` first. Every record that is not
 * delivered (it failed again, or it did not validate, or it could not be read) is kept in a new
 * spool file beside the original; a bad line is named by file and line. A file whose every record
 * was delivered or kept is renamed `NAME.replayed`, so replaying the directory again does not
 * publish it twice.
 */
export async function replaySpool(options: ReplayOptions): Promise<SinkReport> {
  // A --topic that is not a topic name is the user's mistake, found before anything is read.
  if (options.topic !== undefined) {
    try {
      parseTopicName(options.topic);
    } catch (err) {
      throw new ConfigurationError('BAD_TOPIC', `replay-spool --topic: ${(err as Error).message}`);
    }
  }
  const { files, refused } = spoolFiles(options.spoolPath);
  let delivered = 0;
  let failed = 0;
  const notes: string[] = [];
  const kept: string[] = [];
  for (const path of refused) {
    // Its records were not read: counted as one failure, so that the run is not reported complete.
    failed++;
    options.logger.error(`${path}: not replayed: it is not a regular file (a symbolic link is not followed); replay the file it points to by its own path`);
    notes.push(`${path} not replayed: not a regular file`);
  }
  for (const file of files) {
    const r = await replayFile(file, options);
    delivered += r.delivered;
    failed += r.failed;
    notes.push(...r.notes);
    if (r.keptIn) kept.push(r.keptIn);
  }
  if (files.length === 0) notes.push(`no spool files (*${SPOOL_SUFFIX}) in ${options.spoolPath}`);
  return { sink: 'pubsub-replay', delivered, failed, ...(kept.length > 0 ? { spoolPath: kept.join(', ') } : {}), notes };
}

async function replayFile(file: string, options: ReplayOptions): Promise<{ delivered: number; failed: number; notes: string[]; keptIn?: string }> {
  const { logger } = options;
  const lines = readSpoolLines(file);
  const first = await lines.next();
  if (first.done) {
    logger.warn(`${file}: empty, nothing to replay`);
    return { delivered: 0, failed: 0, notes: [`${file} is empty: nothing to replay`] };
  }
  const header = first.value.header;
  const topicName = options.topic ?? header?.topic;
  const stem = basename(file).endsWith(SPOOL_SUFFIX) ? basename(file).slice(0, -SPOOL_SUFFIX.length) : basename(file);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let target: string | undefined;
  let problem: string | undefined;
  const otherFormat = header ? undefined : spoolFormatOf(first.value.raw);
  try {
    if (otherFormat !== undefined) problem = `its header is of spool format ${otherFormat}, which this version does not read`;
    else if (topicName === undefined) problem = 'it has no header naming its topic (written by an older version): give --topic';
    else target = parseTopicName(topicName).name;
  } catch (err) {
    problem = `its topic is not valid (${(err as Error).message})`;
  }
  if (problem || !target) {
    // Nothing of this file can be published: it is left as it is, every record counted.
    let records = 0;
    if (!header && otherFormat === undefined) records++;
    for await (const _ of lines) records++;
    logger.error(`${file}: not replayed: ${problem ?? 'no topic'}; the file is left as it is`);
    return { delivered: 0, failed: records, notes: [`${file} not replayed (${problem ?? 'no topic'}): its ${records} records stay in it`], keptIn: file };
  }
  // Messages that are not delivered go to a new file in the same directory, under the same
  // header: a --topic given once does not redirect later replays of what is left.
  const remaining = Spool.create(join(dirname(file), `${stem}.remaining-${stamp}${SPOOL_SUFFIX}`), {
    topic: header?.topic ?? target,
    ...(header?.scanId ? { scanId: header.scanId } : {}),
  });
  if (header && options.topic && header.topic !== target) logger.info(`${file}: publishing to ${target} (--topic), not to ${header.topic} (the file's header)`);

  let opened: { close(): Promise<void>; delivery: Delivery } | undefined;
  let bad = 0;
  let total = 0;
  const keep = (line: number, raw: string, why: string): void => {
    bad++;
    if (bad <= 20) logger.warn(`${file}:${line}: not replayed (${why}); kept in ${remaining.path}`);
    remaining.appendRaw(raw);
  };
  try {
    const rest = header ? [] : [first.value];
    const all = (async function* () {
      yield* rest;
      yield* lines;
    })();
    for await (const entry of all) {
      total++;
      try {
        const checked = recordProblem(entry.raw);
        if ('problem' in checked) {
          keep(entry.line, entry.raw, checked.problem);
          continue;
        }
        if (!opened) {
          const { pubsub, topic } = await openTopic(target, { project: parseTopicName(target).project, maxReconnectBackoffMs: options.maxReconnectBackoffMs ?? 5_000, ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}) }, {
            batching: { ...DEFAULT_BATCHING, ...options.batching },
            retry: { ...DEFAULT_RETRY, ...options.retry },
          });
          const delivery = new Delivery(topic, { topicName: target, spool: remaining, logger, maxInFlightMessages: 10_000, maxInFlightBytes: 32 * 1024 * 1024, pauseAfterOutageMs: options.pauseAfterOutageMs ?? 15_000 });
          opened = { delivery, close: () => pubsub.close().catch(() => undefined) };
        }
        const pending = opened.delivery.publish({ data: Buffer.from(checked.data), attributes: checked.attributes });
        if (pending) await pending;
      } catch (err) {
        // Whatever went wrong with this one record, it is kept, and the next one is tried.
        keep(entry.line, entry.raw, `could not be replayed: ${rpcErrorInfo(err).message}`);
      }
    }
  } finally {
    if (opened) {
      await opened.delivery.settle();
      await opened.close();
    }
  }
  const delivered = opened?.delivery.delivered ?? 0;
  const failed = (opened?.delivery.failed ?? 0) + bad;
  const notes = [`replayed ${total} spooled messages from ${file} to ${target}: ${delivered} delivered, ${failed} not`];
  if (bad > 20) notes.push(`${bad} lines of ${file} were not replayed (the first 20 are named above)`);
  let keptIn: string | undefined;
  let complete = true;
  try {
    await remaining.close();
    if (failed > 0) {
      keptIn = remaining.path;
      notes.push(`messages still undelivered are in ${remaining.path}`);
    }
  } catch (err) {
    complete = false;
    notes.push(`could not write ${remaining.path}: ${rpcErrorInfo(err).message}; ${file} is left as it is`);
  }
  if (complete) renameSync(file, `${file}.replayed`);
  return { delivered, failed, notes, ...(keptIn ? { keptIn } : {}) };
}

/** The `cronwardenSpool` value of a first line that is a spool header of another format. */
function spoolFormatOf(raw: string): string | undefined {
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, 'cronwardenSpool') && (v as { cronwardenSpool: unknown }).cronwardenSpool !== 1) return JSON.stringify((v as { cronwardenSpool: unknown }).cronwardenSpool).slice(0, 40);
  } catch {
    // a record, read as one
  }
  return undefined;
}
