import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import { SEVERITIES, TargetKindSchema } from '../findings/schema.js';
import type { Rule } from './define-rule.js';
import { checkedRule } from './rule-results.js';

const text = z.string().trim().min(1);

/**
 * The shape every rule must have, built-in or from a pack: what `cronwarden explain` prints and
 * what the judge relies on. Checked when a pack is loaded, so a broken rule is named before any
 * job is judged.
 */
export const RuleShapeSchema = z.object({
  meta: z.object({
    id: z.string().regex(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/, 'a kebab-case id, e.g. my-org-job-naming'),
    title: text,
    severity: z.enum(SEVERITIES),
    appliesTo: z.union([z.literal('all'), z.array(TargetKindSchema).min(1)], {
      error: `'all' or a list of target kinds (${TargetKindSchema.options.join(', ')})`,
    }),
    docs: z.object({
      description: text,
      rationale: text,
      sources: z.array(text).min(1, 'name at least one source the rule rests on'),
      fix: z.object({ gcloud: text, terraform: text }),
      limitations: z.array(text).optional(),
    }),
    messages: z.record(z.string(), text).refine((m) => Object.keys(m).length > 0, 'declare at least one message'),
    remediation: z.object({ summary: text, automatic: z.boolean() }),
  }),
  evaluate: z.custom<Rule['evaluate']>((v) => typeof v === 'function', 'must be a function (job, ctx) => results'),
  memoKey: z.custom<NonNullable<Rule['memoKey']>>((v) => typeof v === 'function', 'must be a function (job) => string | undefined').optional(),
  remediate: z.custom<NonNullable<Rule['remediate']>>((v) => typeof v === 'function', 'must be a function (job, ctx, result, options) => remedy').optional(),
  fix: z.custom<NonNullable<Rule['fix']>>((v) => typeof v === 'function', 'must be a function ({ messageId, data, job, target }) => { summary, commands }').optional(),
}).refine((r) => r.meta.remediation.automatic === (r.remediate !== undefined), {
  path: ['meta', 'remediation', 'automatic'],
  message: 'true exactly when the rule has a remediate function (its fixer)',
});

/**
 * The rules a scan runs: all of `rules`, or only those named in `only`, less those in `skip`,
 * in registry order. An unknown id is a configuration error: a typo must not silently turn a
 * rule off, or leave it on.
 */
export function selectRules(rules: readonly Rule[], only: readonly string[], skip: readonly string[]): Rule[] {
  const known = new Set(rules.map((r) => r.meta.id));
  const unknown = [...only.map((id) => ['--only-rule', id] as const), ...skip.map((id) => ['--skip-rule', id] as const)].filter(([, id]) => !known.has(id));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      'UNKNOWN_RULE',
      `${unknown.map(([flag, id]) => `${flag} ${id}`).join(', ')}: no such rule; known rules: ${[...known].join(', ')}`,
    );
  }
  const selected = rules.filter((r) => (only.length === 0 || only.includes(r.meta.id)) && !skip.includes(r.meta.id));
  if (selected.length === 0) throw new ConfigurationError('NO_RULES', 'the rule selection leaves no rule to run');
  return selected;
}

/**
 * Loads outside rule packs: ES modules whose default export (or `rules` export) is an array of
 * rules shaped like the built-in ones. Their rules run after the built-in rules, in the order
 * given. A pack is code the scanner runs with its own permissions: load only packs you trust.
 */
export async function loadRulePacks(paths: readonly string[], builtIn: readonly Rule[]): Promise<Rule[]> {
  const rules = [...builtIn];
  const origin = new Map<string, string>(builtIn.map((r) => [r.meta.id, 'the built-in rules']));
  for (const path of paths) {
    const fail = (message: string): never => {
      throw new ConfigurationError('BAD_RULE_PACK', `rule pack ${path}: ${message}`);
    };
    let mod: { default?: unknown; rules?: unknown };
    try {
      mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Only the pack itself missing is "does not exist": a module it imports may be the one.
      if (e.code === 'ERR_MODULE_NOT_FOUND' && !existsSync(resolve(path))) return fail('file does not exist');
      // An import's syntax error does not say where; `node --check` does (on this error path only).
      const line = e instanceof SyntaxError ? syntaxErrorLine(resolve(path)) : undefined;
      return fail(`cannot be loaded${line ? ` (line ${line})` : ''}: ${e.name === 'SyntaxError' ? 'SyntaxError: ' : ''}${e.message}`);
    }
    const exported = mod.default ?? mod.rules;
    if (!Array.isArray(exported)) return fail('expected `export default [rule, ...]` or `export const rules = [rule, ...]`');
    if (exported.length === 0) return fail('exports no rules');
    exported.forEach((candidate: unknown, i) => {
      const parsed = RuleShapeSchema.safeParse(candidate);
      const id = (candidate as { meta?: { id?: unknown } } | null)?.meta?.id;
      const label = `rule ${i + 1}${typeof id === 'string' ? ` (${id})` : ''}`;
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'rule'}: ${issue.message}`);
        fail(`${label}: ${issues.join('; ')}`);
      }
      const rule = candidate as Rule;
      const earlier = origin.get(rule.meta.id);
      if (earlier) fail(`${label}: id "${rule.meta.id}" is already taken by ${earlier}`);
      origin.set(rule.meta.id, `rule pack ${path}`);
      rules.push(checkedRule(rule));
    });
  }
  return rules;
}

/** The line `node --check` names for a file's syntax error (its first line of output: `FILE:LINE`). */
function syntaxErrorLine(file: string): string | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const first = check.stderr?.split('\n', 1)[0] ?? '';
  return /:(\d+)$/.exec(first)?.[1];
}
