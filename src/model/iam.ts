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
  /**
   * Where a service account sits: its project number and the containers above it (closest
   * first, `projects/N`, `folders/F`, `organizations/O`), or why that is not known. Needed to
   * resolve principal sets of service accounts; a store without it leaves them unresolved.
   */
  serviceAccountPlacement?(email: string): ServiceAccountPlacement;
}

export type ServiceAccountPlacement =
  | { projectNumber: string; containers: readonly string[] | undefined; why?: string }
  | { projectNumber: undefined; why: string };

type Tri = 'yes' | 'no' | 'maybe';

/** Whether a role holds a permission: predefined from the table, custom from Role assets. */
export function roleHolds(store: PolicyStore, role: string, permission: KnownPermission): { holds: Tri; why?: string } {
  if (role.startsWith('roles/')) {
    return { holds: PREDEFINED_ROLES_BY_PERMISSION[permission]!.has(role) ? 'yes' : 'no' };
  }
  if (/^(projects|organizations)\/[^/]+\/roles\/[^/]+$/.test(role)) {
    const custom = store.customRole(role);
    if (!custom) return { holds: 'maybe', why: store.customRoleUnknown?.(role) ?? `custom role ${role} is not in the inventory` };
    // A deleted role, or one whose stage is DISABLED, "will not contribute permissions to any
    // principals it is granted to" (IAM reference, RoleLaunchStage).
    if (custom.deleted || custom.stage === 'DISABLED') return { holds: 'no' };
    return { holds: custom.permissions.has(permission) ? 'yes' : 'no' };
  }
  return { holds: 'maybe', why: `role ${role} is not a predefined or custom role name the scanner knows` };
}

/** `principalSet://cloudresourcemanager.googleapis.com/{projects|folders|organizations}/N/type/ServiceAccount` */
const SERVICE_ACCOUNT_SET = /^principalSet:\/\/cloudresourcemanager\.googleapis\.com\/(projects|folders|organizations)\/([^/]+)\/type\/ServiceAccount$/;

/**
 * Whether a policy member covers a service account. `store` resolves principal sets of service
 * accounts (IAM "Principal identifiers": every service account in that project, or in the
 * projects under that folder or organization) from where the account sits.
 */
export function memberCovers(member: string, serviceAccountEmail: string, store?: PolicyStore): { covers: Tri; why?: string } {
  const colon = member.indexOf(':');
  const kind = colon === -1 ? member : member.slice(0, colon);
  const value = colon === -1 ? '' : member.slice(colon + 1);
  switch (kind) {
    case 'allUsers':
    case 'allAuthenticatedUsers':
      // A service account's token is a valid Google credential: both cover it.
      return { covers: 'yes' };
    case 'serviceAccount':
      return { covers: value.toLowerCase() === serviceAccountEmail.toLowerCase() ? 'yes' : 'no' };
    case 'group':
      return { covers: 'maybe', why: `group ${value} may contain the service account (group membership is not in the inventory)` };
    case 'domain':
      return { covers: 'maybe', why: `domain ${value} membership of the service account cannot be confirmed` };
    case 'principalSet': {
      const m = SERVICE_ACCOUNT_SET.exec(member);
      if (m && store?.serviceAccountPlacement) return serviceAccountSetCovers(m[1]!, m[2]!, member, serviceAccountEmail, store.serviceAccountPlacement(serviceAccountEmail));
      return { covers: 'maybe', why: `${member} is a principal identifier the scanner does not resolve` };
    }
    case 'principal':
      return { covers: 'maybe', why: `${member} is a principal identifier the scanner does not resolve` };
    default:
      // user:, deleted:*, projectOwner: and the like never name a live service account.
      return { covers: 'no' };
  }
}

function serviceAccountSetCovers(
  kind: string,
  id: string,
  member: string,
  email: string,
  placement: ServiceAccountPlacement,
): { covers: Tri; why?: string } {
  if (!/^\d+$/.test(id)) return { covers: 'maybe', why: `${member} does not name its ${kind.slice(0, -1)} by number, the documented form` };
  if (placement.projectNumber === undefined) return { covers: 'maybe', why: `${member}: ${placement.why}` };
  if (kind === 'projects') return { covers: placement.projectNumber === id ? 'yes' : 'no' };
  if (!placement.containers) return { covers: 'maybe', why: `${member}: ${placement.why ?? `the folders and organization above the project of ${email} are not known`}` };
  return { covers: placement.containers.includes(`${kind}/${id}`) ? 'yes' : 'no' };
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
        const cover = memberCovers(member, email, store);
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

/**
 * Members of a resource's own policy that make it public for a permission: `allUsers` only.
 * `allAuthenticatedUsers` still needs a valid Google token; a call without one gets 401.
 */
export function publicGrants(store: PolicyStore, resource: string, permission: KnownPermission): Grant[] {
  const policy = store.policy(resource);
  if (!policy) return [];
  const out: Grant[] = [];
  for (const b of policy.bindings) {
    if (b.condition || roleHolds(store, b.role, permission).holds !== 'yes') continue;
    for (const m of b.members) {
      if (m === 'allUsers') out.push({ resource, role: b.role, member: m });
    }
  }
  return out;
}
