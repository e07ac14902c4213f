import { randomUUID } from 'node:crypto';
import type protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { parseLogFilter } from '../log-filter.js';
import { messageFromJson, messageToJson } from '../proto-json.js';

type Json = Record<string, unknown>;

const RESOURCE_NAME = /^(projects|organizations|folders|billingAccounts)\/[^/]+(\/locations\/[^/]+\/buckets\/[^/]+(\/views\/[^/]+)?)?$/;

/** entries.list limits (GCP-FACTS §17; Logging v2 ListLogEntriesRequest). */
export const LOGGING_LIMITS = { maxPageSize: 1000, defaultPageSize: 50, maxResourceNames: 100, maxFilterChars: 20_000 } as const;

/**
 * How the fake cuts pages, to test readers against what the API allows: a page may hold fewer
 * entries than asked, or none, and still carry a token. `pageCaps[k]` caps the k-th page of a
 * listing (cycling); 0 gives an empty page with a token.
 */
export interface LoggingPaging {
  pageCaps?: readonly number[];
}

/** A log view fed by an aggregated sink: it shows the entries of these projects (ids), or of all. */
export interface LogView {
  name: string;
  projects: readonly string[] | 'all';
}

/**
 * Cloud Logging v2 WriteLogEntries and ListLogEntries over entries kept in memory, seeded from
 * LogEntry JSON. Entries are kept as JSON; the filter is read with {@link parseLogFilter}.
 */
export class LoggingService {
  private readonly entryType: protobuf.Type;
  private readonly entries: Json[] = [];
  private paging: LoggingPaging = {};
  private readonly views = new Map<string, LogView>();

  constructor(
    root: protobuf.Root,
    seed: readonly Json[] = [],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.entryType = root.lookupType('google.logging.v2.LogEntry');
    for (const e of seed) this.entries.push(this.normalize(e));
  }

  setPaging(paging: LoggingPaging): void {
    this.paging = paging;
  }

  /** Makes a log view (`projects/P/locations/L/buckets/B/views/V`) readable, as a sink into its bucket would. */
  addView(view: LogView): void {
    if (!/\/buckets\/[^/]+\/views\/[^/]+$/.test(view.name)) throw new Error(`not a log view name: ${view.name}`);
    this.views.set(view.name, view);
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
    if (names.length > LOGGING_LIMITS.maxResourceNames) {
      fail('INVALID_ARGUMENT', `resource_names has ${names.length} entries; at most ${LOGGING_LIMITS.maxResourceNames} are allowed`);
    }
    for (const n of names) if (!RESOURCE_NAME.test(n)) fail('INVALID_ARGUMENT', `Invalid resource name "${n}"`);
    const filter = String(req.filter ?? '');
    if (filter.length > LOGGING_LIMITS.maxFilterChars) fail('INVALID_ARGUMENT', `filter is ${filter.length} characters; at most ${LOGGING_LIMITS.maxFilterChars} are allowed`);
    let predicate: (e: Json) => boolean = () => true;
    if (filter) {
      try {
        predicate = parseLogFilter(filter);
      } catch (err) {
        fail('INVALID_ARGUMENT', `Unparseable filter: ${(err as Error).message}`);
      }
    }
    const orderBy = String(req.orderBy ?? '').trim().toLowerCase();
    if (orderBy !== '' && orderBy !== 'timestamp asc' && orderBy !== 'timestamp desc') fail('INVALID_ARGUMENT', `Invalid order_by "${req.orderBy}"`);
    const rawSize = Number(req.pageSize ?? 0);
    if (!Number.isInteger(rawSize) || rawSize < 0 || rawSize > LOGGING_LIMITS.maxPageSize) {
      fail('INVALID_ARGUMENT', `page_size must be between 0 and ${LOGGING_LIMITS.maxPageSize}, got ${req.pageSize}`);
    }
    const pageSize = rawSize || LOGGING_LIMITS.defaultPageSize;
    const visible = names.map((n) => this.visibility(n));
    // Entries with the same timestamp come in insert_id order, so paging is stable.
    const matching = this.entries
      .filter((e) => visible.some((v) => v(e)) && predicate(e))
      .sort((a, b) => Date.parse(String(a.timestamp)) - Date.parse(String(b.timestamp)) || String(a.insertId).localeCompare(String(b.insertId)));
    if (orderBy === 'timestamp desc') matching.reverse();
    let offset = 0;
    let pageIndex = 0;
    if (req.pageToken) {
      const token = /^(\d+)\.(\d+)$/.exec(Buffer.from(String(req.pageToken), 'base64url').toString('utf8'));
      if (!token) fail('INVALID_ARGUMENT', 'Invalid page token');
      offset = Number(token[1]);
      pageIndex = Number(token[2]);
    }
    const caps = this.paging.pageCaps;
    const take = caps && caps.length > 0 ? Math.min(pageSize, caps[pageIndex % caps.length]!) : pageSize;
    const end = offset + take;
    const next = end < matching.length ? Buffer.from(`${end}.${pageIndex + 1}`).toString('base64url') : '';
    return { entries: matching.slice(offset, end).map((e) => messageFromJson(this.entryType, e)), nextPageToken: next };
  }

  /** Which entries a resource name shows: a project's own logs, or a view's projects. */
  private visibility(name: string): (e: Json) => boolean {
    const view = /\/views\/[^/]+$/.test(name) ? this.views.get(name) : undefined;
    if (/\/views\/[^/]+$/.test(name) && !/\/buckets\/_Default\/views\/_(Default|AllLogs)$/.test(name)) {
      if (!view) fail('NOT_FOUND', `Log view ${name} does not exist`);
      if (view.projects === 'all') return () => true;
      const prefixes = view.projects.map((p) => `projects/${p}/logs/`);
      return (e) => prefixes.some((p) => String(e.logName).startsWith(p));
    }
    const prefix = `${name.split('/').slice(0, 2).join('/')}/logs/`;
    return (e) => String(e.logName).startsWith(prefix);
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
