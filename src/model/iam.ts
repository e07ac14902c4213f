import { containerAssetName } from './asset-types.js';
import { PREDEFINED_ROLES_BY_PERMISSION, type KnownPermission } from './predefined-roles.js';
import type { CustomRole, Policy } from './types.js';

export interface Grant {
  /** The policy's asset name. */
  resource: string;
  role: string;
  member: string;
  /** Why the grant is only possible, for `maybe` grants. */
  uncertainty?: string;
  /**
   * Set on a `maybe` grant whose only doubt is whether the account is a member of this group
   * (its email): Cloud Identity can settle it (src/evidence/groups) after judging.
   */
  group?: string;
}

export type AccessVerdict =
  | { result: 'granted'; grants: Grant[] }
  | { result: 'denied'; checkedPolicies: string[] }
  | {
      result: 'unverifiable';
      reasons: string[];
      possibleGrants: Grant[];
      checkedPolicies: string[];
      /** The reasons that are not about a possible grant (policies or ancestry missing, malformed bindings). */
      gaps: string[];
    };

export interface AccessQuery {
  /** An IAM member string: `serviceAccount:x@p.iam.gserviceaccount.com`. */
  member: string;
  permission: KnownPermission;
  /** Asset name of the resource whose policy applies first. */
  resource: string;
  /** Ancestor entries, closest first (`projects/123`, `folders/4`, `organizations/5`), or undefined when unknown. */
  ancestors: readonly string[] | undefined;
}

export interface PolicyStore {
  policy(assetName: string): Policy | undefined;
  customRole(name: string): CustomRole | undefined;
  /** Why a policy missing from the store may exist (present but unreadable input); undefined when absence is a fact. */
  policyUnknown?(assetName: string): string | undefined;
  /** The same for a custom role. */
  customRoleUnknown?(name: string): string | undefined;
}

type Tri = 'yes' | 'no' | 'maybe';

/** Whether a role holds a permission: predefined from the table, custom from Role assets. */
export function roleHolds(store: PolicyStore, role: string, permission: KnownPermission): { holds: Tri; why?: string } {
  if (role.startsWith('roles/')) {
    return { holds: PREDEFINED_ROLES_BY_PERMISSION[permission]!.has(role) ? 'yes' : 'no' };
  }
  if (/^(projects|organizations)\/[^/]+\/roles\/[^/]+$/.test(role)) {
    const custom = store.customRole(role);
    if (!custom) return { holds: 'maybe', why: store.customRoleUnknown?.(role) ?? `custom role ${role} is not in the inventory` };
    if (custom.deleted) return { holds: 'no' };
    return { holds: custom.permissions.has(permission) ? 'yes' : 'no' };
  }
  return { holds: 'maybe', why: `role ${role} is not a predefined or custom role name the scanner knows` };
}

/** Whether a policy member covers a service account. */
export function memberCovers(member: string, serviceAccountEmail: string): { covers: Tri; why?: string } {
  const colon = member.indexOf(':');
  const kind = colon === -1 ? member : member.slice(0, colon);
  const value = colon === -1 ? '' : member.slice(colon + 1);
  switch (kind) {
    case 'allUsers':
    case 'allAuthenticatedUsers':
      return { covers: 'yes' };
    case 'serviceAccount':
      return { covers: value.toLowerCase() === serviceAccountEmail.toLowerCase() ? 'yes' : 'no' };
    case 'group':
      return { covers: 'maybe', why: `group ${value} may contain the service account (group membership is not in the inventory)` };
    case 'domain':
      return { covers: 'maybe', why: `domain ${value} membership of the service account cannot be confirmed` };
    case 'principalSet':
    case 'principal':
      return { covers: 'maybe', why: `${member} is a principal identifier the scanner does not resolve` };
    default:
      // user:, deleted:*, projectOwner: and the like never name a live service account.
      return { covers: 'no' };
  }
}

/**
 * Effective IAM: does `member` hold `permission` on `resource` through the resource's own
 * policy or an ancestor's? Definite grants win; a denial needs every policy on the path read.
 */
export function checkAccess(store: PolicyStore, q: AccessQuery): AccessVerdict {
  const email = q.member.startsWith('serviceAccount:') ? q.member.slice('serviceAccount:'.length) : q.member;
  const grants: Grant[] = [];
  const possible: Grant[] = [];
  const reasons: string[] = [];
  const checked: string[] = [];

  const scan = (assetName: string, policy: Policy): void => {
    checked.push(assetName);
    if (policy.skippedBindings > 0) {
      reasons.push(`IAM policy of ${assetName} had ${policy.skippedBindings} malformed binding(s) that could not be read`);
    }
    for (const binding of policy.bindings) {
      const role = roleHolds(store, binding.role, q.permission);
      if (role.holds === 'no') continue;
      for (const member of binding.members) {
        const cover = memberCovers(member, email);
        if (cover.covers === 'no') continue;
        const grant: Grant = { resource: assetName, role: binding.role, member };
        const doubts = [role.why, cover.why, binding.condition ? `the binding has an IAM condition ("${binding.condition}")` : undefined]
          .filter((d): d is string => d !== undefined);
        if (role.holds === 'yes' && cover.covers === 'yes' && doubts.length === 0) grants.push(grant);
        else if (role.holds === 'yes' && doubts.length === 1 && member.startsWith('group:')) possible.push({ ...grant, uncertainty: doubts[0]!, group: member.slice('group:'.length) });
        else possible.push({ ...grant, uncertainty: doubts.join('; ') });
      }
    }
  };

  // A resource without a policy record has none set (CAI lists only policies that are set), unless
  // the input held a record for it that could not be read: then its grants are unknown.
  const own = store.policy(q.resource);
  const ownUnknown = own ? undefined : store.policyUnknown?.(q.resource);
  if (ownUnknown) reasons.push(ownUnknown);
  else scan(q.resource, own ?? { bindings: [], origin: 'none', skippedBindings: 0 });
  if (q.ancestors === undefined) {
    reasons.push(`the ancestry (project, folders, organization) of ${q.resource} is not known`);
  } else {
    for (const ancestor of q.ancestors) {
      const name = containerAssetName(ancestor);
      const policy = store.policy(name);
      if (policy) scan(name, policy);
      else reasons.push(store.policyUnknown?.(name) ?? `IAM policy of ${ancestor} is not in the inventory (coverage gap)`);
    }
  }
  if (grants.length > 0) return { result: 'granted', grants };
  if (possible.length > 0 || reasons.length > 0) {
    return {
      result: 'unverifiable',
      reasons: [...possible.map((g) => `${g.member} via ${g.role} on ${g.resource}: ${g.uncertainty}`), ...reasons],
      possibleGrants: possible,
      checkedPolicies: checked,
      gaps: reasons,
    };
  }
  return { result: 'denied', checkedPolicies: checked };
}

/** Members of a resource's own policy that make it public for a permission. */
export function publicGrants(store: PolicyStore, resource: string, permission: KnownPermission): Grant[] {
  const policy = store.policy(resource);
  if (!policy) return [];
  const out: Grant[] = [];
  for (const b of policy.bindings) {
    if (b.condition || roleHolds(store, b.role, permission).holds !== 'yes') continue;
    for (const m of b.members) {
      if (m === 'allUsers' || m === 'allAuthenticatedUsers') out.push({ resource, role: b.role, member: m });
    }
  }
  return out;
}
