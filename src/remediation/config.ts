import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import { splitList } from '../config/config.js';

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const EMAIL = /^[^@\s=,]+@[^@\s=,]+\.[^@\s=,]+$/;

/** `PROJECT=EMAIL`: the invoker account for a project's jobs that name none. */
const invokerAccount = z.string().regex(new RegExp(`^${PROJECT.source.slice(1, -1)}=${EMAIL.source.slice(1, -1)}$`), 'PROJECT=EMAIL, e.g. acme-prod=scheduler@acme-prod.iam.gserviceaccount.com');

/** Settings of `cronwarden fix` and of the scan's unattended remediation; each has a flag and a variable. */
export const FixConfigSchema = z
  .object({
    findings: z.string().min(1).optional(),
    fixOutput: z.string().min(1).optional(),
    invokerAccounts: z.array(invokerAccount).default([]),
    yes: z.boolean().default(false),
    maxChanges: z.coerce.number().int().min(1).max(100_000).default(10),
    fixConcurrency: z.coerce.number().int().min(1).max(64).default(8),
    remediate: z.enum(['off', 'plan', 'apply']).default('off'),
    remediateRules: z.array(z.string().min(1)).default([]),
    remediateProjects: z.array(z.string().regex(PROJECT, 'a project ID')).default([]),
    planOutput: z.string().min(1).default('cronwarden-remediation-plan.json'),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Unattended changes need an explicit scope: an empty allow-list would mean "everything".
    if (c.remediate !== 'off' && c.remediateRules.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['remediateRules'], message: 'unattended remediation needs an explicit rule allow-list' });
    }
    if (c.remediate !== 'off' && c.remediateProjects.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['remediateProjects'], message: 'unattended remediation needs an explicit project allow-list' });
    }
  });

export type FixConfig = z.infer<typeof FixConfigSchema>;

export const FIX_ENV_VARS = {
  findings: 'CRONWARDEN_FIX_FINDINGS',
  fixOutput: 'CRONWARDEN_FIX_OUTPUT',
  invokerAccounts: 'CRONWARDEN_INVOKER_ACCOUNTS',
  yes: 'CRONWARDEN_FIX_YES',
  maxChanges: 'CRONWARDEN_MAX_CHANGES',
  fixConcurrency: 'CRONWARDEN_FIX_CONCURRENCY',
  remediate: 'CRONWARDEN_REMEDIATE',
  remediateRules: 'CRONWARDEN_REMEDIATE_RULES',
  remediateProjects: 'CRONWARDEN_REMEDIATE_PROJECTS',
  planOutput: 'CRONWARDEN_PLAN_OUTPUT',
} as const satisfies Record<keyof FixConfig, string>;

export const FIX_FLAGS = {
  findings: '--findings',
  fixOutput: '--output',
  invokerAccounts: '--invoker-account',
  yes: '--yes',
  maxChanges: '--max-changes',
  fixConcurrency: '--fix-concurrency',
  remediate: '--remediate',
  remediateRules: '--remediate-rule',
  remediateProjects: '--remediate-project',
  planOutput: '--plan-output',
} as const satisfies Record<keyof FixConfig, string>;

const LISTS = new Set<string>(['invokerAccounts', 'remediateRules', 'remediateProjects']);

export function parseFixConfig(flags: Partial<Record<keyof FixConfig, unknown>>, env: NodeJS.ProcessEnv): FixConfig {
  const merged: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(FIX_ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (LISTS.has(key)) merged[key] = splitList(raw);
    else if (key === 'yes') {
      if (!/^(true|false|1|0|yes|no)$/i.test(raw)) throw new ConfigurationError('BAD_ENV', `${name}=${raw}: expected true or false`);
      merged[key] = /^(true|1|yes)$/i.test(raw);
    } else merged[key] = raw;
  }
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) merged[k] = v;
  const parsed = FixConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '') as keyof FixConfig;
    return key in FIX_ENV_VARS ? `${FIX_FLAGS[key]} (or ${FIX_ENV_VARS[key]}): ${issue.message}` : issue.message;
  });
  throw new ConfigurationError('INVALID_CONFIG', `invalid configuration:\n  ${lines.join('\n  ')}`);
}

/** `PROJECT=EMAIL` pairs as a map; a project named twice is a mistake, not a choice. */
export function invokerAccountMap(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const [project, email] = pair.split('=') as [string, string];
    if (map.has(project) && map.get(project) !== email) {
      throw new ConfigurationError('INVALID_CONFIG', `--invoker-account (or ${FIX_ENV_VARS.invokerAccounts}): project ${project} is named twice`);
    }
    map.set(project, email);
  }
  return map;
}
