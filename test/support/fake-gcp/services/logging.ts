import { randomUUID } from 'node:crypto';
import type protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { parseLogFilter } from '../log-filter.js';
import { messageFromJson, messageToJson } from '../proto-json.js';

type Json = Record<string, unknown>;

const RESOURCE_NAME = /^(projects|organizations|folders|billingAccounts)\/[^/]+(\/locations\/[^/]+\/buckets\/[^/]+(\/views\/[^/]+)?)?$/;

/**
 * Cloud Logging v2 WriteLogEntries and ListLogEntries over entries kept in memory, seeded from
 * LogEntry JSON. Entries are kept as JSON; the filter is read with {@link parseLogFilter}.
 */
export class LoggingService {
  private readonly entryType: protobuf.Type;
  private readonly entries: Json[] = [];

  constructor(
    root: protobuf.Root,
    seed: readonly Json[] = [],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.entryType = root.lookupType('google.logging.v2.LogEntry');
    for (const e of seed) this.entries.push(this.normalize(e));
  }

  /** Entries written so far, newest last, as JSON. */
  all(): readonly Json[] {
    return this.entries;
  }

  writeLogEntries(req: Json): Json {
    const entries = (req.entries as Json[] | undefined) ?? [];
    if (entries.length === 0) fail('INVALID_ARGUMENT', 'entries must not be empty');
    const defaults = messageToJson(this.entryType, { logName: req.logName, resource: req.resource, labels: req.labels }) as Json;
    for (const message of entries) {
      const entry = messageToJson(this.entryType, message) as Json;
      const merged: Json = { ...defaults, ...entry, labels: { ...(defaults.labels as Json | undefined), ...(entry.labels as Json | undefined) } };
      if (Object.keys(merged.labels as Json).length === 0) delete merged.labels;
      if (!merged.logName) fail('INVALID_ARGUMENT', 'log_name is required, in the request or in every entry');
      if (!merged.resource) fail('INVALID_ARGUMENT', 'resource is required, in the request or in every entry');
      this.entries.push(this.normalize(merged));
    }
    return {};
  }

  listLogEntries(req: Json): Json {
    const names = ((req.resourceNames as string[] | undefined) ?? []).filter(Boolean);
    if (names.length === 0) fail('INVALID_ARGUMENT', 'resource_names is required');
    for (const n of names) if (!RESOURCE_NAME.test(n)) fail('INVALID_ARGUMENT', `Invalid resource name "${n}"`);
    let predicate: (e: Json) => boolean = () => true;
    if (req.filter) {
      try {
        predicate = parseLogFilter(String(req.filter));
      } catch (err) {
        fail('INVALID_ARGUMENT', `Unparseable filter: ${(err as Error).message}`);
      }
    }
    const orderBy = String(req.orderBy ?? '').trim().toLowerCase();
    if (orderBy !== '' && orderBy !== 'timestamp asc' && orderBy !== 'timestamp desc') fail('INVALID_ARGUMENT', `Invalid order_by "${req.orderBy}"`);
    const prefixes = names.map((n) => `${n.split('/').slice(0, 2).join('/')}/logs/`);
    const matching = this.entries
      .filter((e) => prefixes.some((p) => String(e.logName).startsWith(p)) && predicate(e))
      .sort((a, b) => Date.parse(String(a.timestamp)) - Date.parse(String(b.timestamp)));
    if (orderBy === 'timestamp desc') matching.reverse();
    const pageSize = Math.min(Number(req.pageSize ?? 0) || 50, 1000);
    const offset = req.pageToken ? Number(Buffer.from(String(req.pageToken), 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(offset) || offset < 0) fail('INVALID_ARGUMENT', 'Invalid page token');
    const next = offset + pageSize < matching.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : '';
    return { entries: matching.slice(offset, offset + pageSize).map((e) => messageFromJson(this.entryType, e)), nextPageToken: next };
  }

  /** Round-trips an entry through the proto, so stored entries hold exactly what the API would. */
  private normalize(entry: Json): Json {
    const now = this.now().toISOString();
    const json = messageToJson(this.entryType, messageFromJson(this.entryType, entry)) as Json;
    json.timestamp ??= now;
    json.receiveTimestamp ??= now;
    json.insertId ??= randomUUID().replace(/-/g, '').slice(0, 16);
    return json;
  }
}
