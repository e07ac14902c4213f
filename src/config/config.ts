import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import { SEVERITIES } from '../findings/schema.js';
import { DEFAULT_INPUT_LIMITS } from '../inventory/file-source.js';

const list = z.array(z.string().min(1));

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kib: 2 ** 10, kb: 1e3, m: 2 ** 20, mib: 2 ** 20, mb: 1e6, g: 2 ** 30, gib: 2 ** 30, gb: 1e9, t: 2 ** 40, tib: 2 ** 40, tb: 1e12 };

/** `16MiB`, `2 GB`, `1048576`: bytes, or undefined when it is not a size. */
export function parseByteSize(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A byte size given as a number or a string with a unit, within [min, max]. */
function byteSize(min: number, max: number, range: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const n = typeof value === 'number' ? value : parseByteSize(value);
    if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 16MiB or 2GiB, ${range}; got "${value}"` });
      return z.NEVER;
    }
    return n;
  });
}

/** Formats `scan --format` writes: streams of findings, and the reports (which need the summary). */
export const OUTPUT_FORMATS = ['table', 'jsonl', 'json', 'html', 'markdown', 'sarif', 'csv'] as const;

const ORG_ID = /^\d+$/;
const FOLDER_ID = /^\d+$/;
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^\d+$/;

export const ScanConfigSchema = z
  .object({
    inputs: list.default([]),
    orgs: z.array(z.string().regex(ORG_ID, 'an organization ID is a number, e.g. 123456789012')).default([]),
    folders: z.array(z.string().regex(FOLDER_ID, 'a folder ID is a number, e.g. 345678901234')).default([]),
    projects: z.array(z.string().regex(PROJECT, 'a project ID (6-30 lowercase letters, digits, hyphens) or number')).default([]),
    format: z.enum(OUTPUT_FORMATS),
    output: z.string().min(1).optional(),
    failOn: z.enum([...SEVERITIES, 'never']).default('never'),
    includePasses: z.boolean().default(false),
    minSeverity: z.enum(SEVERITIES).default('info'),
    groupBy: z.enum(['project', 'rule', 'none']).default('project'),
    wide: z.boolean().default(false),
    topic: z
      .string()
      .regex(/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/, 'expected projects/PROJECT/topics/TOPIC')
      .optional(),
    spoolDir: z.string().min(1).default('cronwarden-spool'),
    spoolPath: z.string().min(1).optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    logFormat: z.enum(['text', 'json']).default('text'),
    exitMode: z.enum(['cli', 'cloud-run']).default('cli'),
    concurrency: z.coerce.number().int().min(1).max(64).default(8),
    ratePerMinute: z.coerce.number().int().min(1).max(10_000).default(80),
    maxInputSize: byteSize(2 ** 10, 2 ** 50, 'from 1KiB to 1PiB').default(DEFAULT_INPUT_LIMITS.maxInputBytes),
    // Below V8's longest string (2^29 - 24 UTF-16 units), so a record at the limit can still be decoded.
    maxRecordSize: byteSize(2 ** 10, 256 * 2 ** 20, 'from 1KiB to 256MiB').default(DEFAULT_INPUT_LIMITS.maxRecordBytes),
    rulePacks: list.default([]),
    onlyRules: list.default([]),
    skipRules: list.default([]),
    attemptsWindow: z
      .string()
      .regex(/^[1-9]\d{0,3}[dhm]$/, 'a window like 7d, 36h or 90m')
      .refine((w) => !w.endsWith('d') || Number(w.slice(0, -1)) <= 30, 'at most 30d (Scheduler logs stay 30 days in _Default)')
      .optional(),
    attemptsFrom: z
      .string()
      .regex(
        /^projects$|^(projects|organizations|folders|billingAccounts)\/[^/\s]+\/locations\/[^/\s]+\/buckets\/[^/\s]+\/views\/[^/\s]+$/,
        '"projects" (each project\'s own logs) or a log view: projects/P/locations/L/buckets/B/views/V',
      )
      .optional(),
    resolveGroups: z.boolean().default(false),
    groupsRatePerMinute: z.coerce.number().int().min(1).max(100_000).default(600),
    state: z.string().min(1).optional(),
    exceptions: z.string().min(1).optional(),
    exceptionsMaxDays: z.coerce.number().int().min(1).max(3650).default(365),
  })
  .strict()
  .superRefine((c, ctx) => {
    const scopes = c.orgs.length + c.folders.length + c.projects.length;
    if (c.inputs.length === 0 && scopes === 0) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'nothing to scan: give --input FILE, or --org/--folder/--project' });
    }
    if (c.inputs.length > 0 && scopes > 0) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: '--input cannot be combined with --org/--folder/--project: one scan reads one inventory' });
    }
  });

export type ScanConfig = z.infer<typeof ScanConfigSchema>;

/** Execution logs are read when either attempts setting is given; the window defaults to 7 days. */
export function attemptsSettings(c: ScanConfig): { window: string; from: string } | undefined {
  if (c.attemptsWindow === undefined && c.attemptsFrom === undefined) return undefined;
  return { window: c.attemptsWindow ?? '7d', from: c.attemptsFrom ?? 'projects' };
}

/** Environment variables for every scan setting, for Cloud Run jobs. Flags win over them. */
export const ENV_VARS = {
  inputs: 'CRONWARDEN_INPUTS',
  orgs: 'CRONWARDEN_ORGS',
  folders: 'CRONWARDEN_FOLDERS',
  projects: 'CRONWARDEN_PROJECTS',
  format: 'CRONWARDEN_FORMAT',
  output: 'CRONWARDEN_OUTPUT',
  failOn: 'CRONWARDEN_FAIL_ON',
  includePasses: 'CRONWARDEN_INCLUDE_PASSES',
  minSeverity: 'CRONWARDEN_MIN_SEVERITY',
  groupBy: 'CRONWARDEN_GROUP_BY',
  wide: 'CRONWARDEN_WIDE',
  topic: 'CRONWARDEN_TOPIC',
  spoolDir: 'CRONWARDEN_SPOOL_DIR',
  spoolPath: 'CRONWARDEN_SPOOL_PATH',
  logLevel: 'CRONWARDEN_LOG_LEVEL',
  logFormat: 'CRONWARDEN_LOG_FORMAT',
  exitMode: 'CRONWARDEN_EXIT_MODE',
  concurrency: 'CRONWARDEN_CONCURRENCY',
  ratePerMinute: 'CRONWARDEN_RATE_PER_MINUTE',
  maxInputSize: 'CRONWARDEN_MAX_INPUT_SIZE',
  maxRecordSize: 'CRONWARDEN_MAX_RECORD_SIZE',
  rulePacks: 'CRONWARDEN_RULE_PACKS',
  onlyRules: 'CRONWARDEN_ONLY_RULES',
  skipRules: 'CRONWARDEN_SKIP_RULES',
  attemptsWindow: 'CRONWARDEN_ATTEMPTS_WINDOW',
  attemptsFrom: 'CRONWARDEN_ATTEMPTS_FROM',
  resolveGroups: 'CRONWARDEN_RESOLVE_GROUPS',
  groupsRatePerMinute: 'CRONWARDEN_GROUPS_RATE_PER_MINUTE',
  state: 'CRONWARDEN_STATE',
  exceptions: 'CRONWARDEN_EXCEPTIONS',
  exceptionsMaxDays: 'CRONWARDEN_EXCEPTIONS_MAX_DAYS',
} as const satisfies Record<keyof ScanConfig, string>;

const ENUM_KEYS = ['format', 'failOn', 'logLevel', 'logFormat', 'exitMode'] as const;
const LIST_KEYS = new Set(['inputs', 'orgs', 'folders', 'projects', 'rulePacks', 'onlyRules', 'skipRules']);

/** Reads settings from the environment: lists are comma-separated, booleans `true`/`false`. */
export function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (LIST_KEYS.has(key)) out[key] = splitList(raw);
    else if (key === 'includePasses' || key === 'resolveGroups' || key === 'wide') out[key] = parseBool(raw, name);
    else out[key] = raw;
  }
  return out;
}

/** A comma-separated list variable's items, blanks dropped. */
export function splitList(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A list setting read from its environment variable alone (`rules` and `explain` read only the packs). */
export function envList(env: NodeJS.ProcessEnv, key: 'rulePacks'): string[] {
  const raw = env[ENV_VARS[key]];
  return raw ? splitList(raw) : [];
}

function parseBool(raw: string, name: string): boolean {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigurationError('BAD_ENV', `${name}=${raw}: expected true or false`);
}

/** Validates merged settings once; every error names the flag or variable and what is allowed. */
export function parseScanConfig(
  fromFlags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  defaults: { format: 'table' | 'jsonl'; logFormat?: 'text' | 'json'; exitMode?: 'cli' | 'cloud-run' },
): ScanConfig {
  const merged: Record<string, unknown> = { ...stripUndefined(defaults), ...fromEnv(env), ...stripUndefined(fromFlags) };
  // Names from a fixed set are matched whatever their case: --fail-on HIGH means high.
  for (const key of ENUM_KEYS) if (typeof merged[key] === 'string') merged[key] = (merged[key] as string).trim().toLowerCase();
  const parsed = ScanConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const where = key in ENV_VARS ? `${flagName(key)} (or ${ENV_VARS[key as keyof typeof ENV_VARS]})` : key || 'settings';
    return `${where}: ${issue.message}`;
  });
  throw new ConfigurationError('INVALID_CONFIG', `invalid configuration:\n  ${lines.join('\n  ')}`);
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

const FLAG_NAMES: Record<string, string> = { inputs: '--input', orgs: '--org', folders: '--folder', projects: '--project', rulePacks: '--rule-pack', onlyRules: '--only-rule', skipRules: '--skip-rule' };
export function flagName(key: string): string {
  return FLAG_NAMES[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
