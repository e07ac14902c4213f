import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import { SEVERITIES } from '../findings/schema.js';

const list = z.array(z.string().min(1));

const ORG_ID = /^\d+$/;
const FOLDER_ID = /^\d+$/;
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^\d+$/;

export const ScanConfigSchema = z
  .object({
    inputs: list.default([]),
    orgs: z.array(z.string().regex(ORG_ID, 'an organization ID is a number, e.g. 123456789012')).default([]),
    folders: z.array(z.string().regex(FOLDER_ID, 'a folder ID is a number, e.g. 345678901234')).default([]),
    projects: z.array(z.string().regex(PROJECT, 'a project ID (6-30 lowercase letters, digits, hyphens) or number')).default([]),
    format: z.enum(['table', 'jsonl', 'json']),
    output: z.string().min(1).optional(),
    failOn: z.enum([...SEVERITIES, 'never']).default('never'),
    includePasses: z.boolean().default(false),
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
    rulePacks: list.default([]),
    onlyRules: list.default([]),
    skipRules: list.default([]),
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
  topic: 'CRONWARDEN_TOPIC',
  spoolDir: 'CRONWARDEN_SPOOL_DIR',
  spoolPath: 'CRONWARDEN_SPOOL_PATH',
  logLevel: 'CRONWARDEN_LOG_LEVEL',
  logFormat: 'CRONWARDEN_LOG_FORMAT',
  exitMode: 'CRONWARDEN_EXIT_MODE',
  concurrency: 'CRONWARDEN_CONCURRENCY',
  ratePerMinute: 'CRONWARDEN_RATE_PER_MINUTE',
  rulePacks: 'CRONWARDEN_RULE_PACKS',
  onlyRules: 'CRONWARDEN_ONLY_RULES',
  skipRules: 'CRONWARDEN_SKIP_RULES',
} as const satisfies Record<keyof ScanConfig, string>;

const LIST_KEYS = new Set(['inputs', 'orgs', 'folders', 'projects', 'rulePacks', 'onlyRules', 'skipRules']);

/** Reads settings from the environment: lists are comma-separated, booleans `true`/`false`. */
export function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (LIST_KEYS.has(key)) out[key] = splitList(raw);
    else if (key === 'includePasses') out[key] = parseBool(raw, name);
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
  const merged = { ...stripUndefined(defaults), ...fromEnv(env), ...stripUndefined(fromFlags) };
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
