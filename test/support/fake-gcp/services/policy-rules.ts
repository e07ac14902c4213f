import { createHash } from 'node:crypto';
import { fail } from '../faults.js';

type Json = Record<string, unknown>;

export interface StoredBinding {
  role: string;
  members: string[];
  condition?: { expression?: string; title?: string; description?: string } | null;
}

export interface StoredPolicy {
  version?: number;
  bindings?: StoredBinding[];
  auditConfigs?: Json[];
  etag?: string;
}

const VERSIONS = new Set([0, 1, 3]);

/** Member forms IAM accepts (IAM `Binding.members` reference; GCP-FACTS §13). */
const MEMBER = new RegExp(
  [
    '^allUsers$',
    '^allAuthenticatedUsers$',
    '^(user|serviceAccount|group):[^@\\s:]+@[^@\\s:]+$',
    '^domain:[a-z0-9.-]+\\.[a-z]+$',
    '^deleted:(user|serviceAccount|group):[^@\\s:]+@[^@\\s:?]+\\?uid=\\d+$',
    '^(projectOwner|projectEditor|projectViewer):[a-z][a-z0-9-]{4,28}[a-z0-9]$',
    '^principal(Set)?://\\S+$',
  ].join('|'),
);
const ROLE = /^(roles\/[A-Za-z0-9_.]+|(projects|organizations)\/[^/]+\/roles\/[A-Za-z0-9_.]+)$/;

/**
 * A policy read as Google answers it: a read that does not request version 3 cannot carry
 * conditions, so each conditional binding shows with its role renamed `ROLE_withcond_HASH` and no
 * condition, at version 1 (IAM "Policy versions" and troubleshooting pages).
 */
export function policyForRead(policy: StoredPolicy, requestedVersion: number): StoredPolicy {
  if (!VERSIONS.has(requestedVersion)) fail('INVALID_ARGUMENT', `Invalid requested policy version ${requestedVersion}: use 0, 1 or 3`);
  const bindings = policy.bindings ?? [];
  if (requestedVersion >= 3 || !bindings.some((b) => b.condition)) return policy;
  return {
    ...policy,
    version: 1,
    bindings: bindings.map((b) =>
      b.condition ? { role: `${b.role}_withcond_${createHash('sha256').update(JSON.stringify(b.condition)).digest('hex').slice(0, 20)}`, members: b.members } : b,
    ),
  };
}

/** Checks a policy a caller sends, as IAM does; returns nothing or throws INVALID_ARGUMENT. */
export function checkPolicyWrite(policy: StoredPolicy, opts: { requireEtag: boolean }): void {
  const version = policy.version ?? 0;
  if (!VERSIONS.has(version)) fail('INVALID_ARGUMENT', `Invalid policy version ${version}: use 0, 1 or 3`);
  if (opts.requireEtag && !policy.etag) fail('INVALID_ARGUMENT', 'etag is required: read the policy, change it, and write it back with the etag read (this fake runs in strict mode)');
  for (const b of policy.bindings ?? []) {
    if (b.role.includes('_withcond_')) fail('INVALID_ARGUMENT', `Role ${b.role} is a placeholder for a conditional binding: read the policy with requested_policy_version 3`);
    if (!ROLE.test(b.role)) fail('INVALID_ARGUMENT', `Invalid role ${b.role}`);
    if (b.condition && version < 3) fail('INVALID_ARGUMENT', `Binding for ${b.role} has a condition; conditions need policy version 3`);
    if ((b.members ?? []).length === 0) fail('INVALID_ARGUMENT', `Binding for ${b.role} has no members`);
    for (const m of b.members ?? []) if (!MEMBER.test(m)) fail('INVALID_ARGUMENT', `Invalid member "${m}" in binding for ${b.role}`);
  }
}

/** SetIamPolicy's update_mask: only the named fields change; the default is "bindings, etag". */
export function mergePolicyWrite(current: StoredPolicy | undefined, requested: StoredPolicy, paths: readonly string[]): StoredPolicy {
  const mask = paths.length > 0 ? paths : ['bindings', 'etag'];
  for (const p of mask) if (!['bindings', 'etag', 'audit_configs', 'version'].includes(p)) fail('INVALID_ARGUMENT', `Invalid update_mask path "${p}"`);
  return {
    version: requested.version ?? current?.version ?? 1,
    bindings: mask.includes('bindings') ? (requested.bindings ?? []) : (current?.bindings ?? []),
    ...(mask.includes('audit_configs') ? (requested.auditConfigs ? { auditConfigs: requested.auditConfigs } : {}) : current?.auditConfigs ? { auditConfigs: current.auditConfigs } : {}),
  };
}
