import { fail } from './faults.js';

/** One grant of a caller: a permission (a trailing `*` matches any suffix) on a resource and everything under it (`*`: anywhere). */
export interface PermissionGrant {
  permission: string;
  resource: string;
}

/** Callers and what they may do. A caller not in the map may do everything (the fake's default). */
export type PermissionMap = Record<string, readonly PermissionGrant[]>;

type Json = Record<string, unknown>;

/** The permission each served method checks, and where the request names its resource. */
const METHOD_PERMISSIONS: Record<string, (req: Json) => { permission: string; resource: string } | undefined> = {
  'scheduler.GetJob': (r) => ({ permission: 'cloudscheduler.jobs.get', resource: String(r.name ?? '') }),
  'scheduler.ListJobs': (r) => ({ permission: 'cloudscheduler.jobs.list', resource: String(r.parent ?? '') }),
  'scheduler.UpdateJob': (r) => ({ permission: 'cloudscheduler.jobs.update', resource: String((r.job as Json | undefined)?.name ?? '') }),
  'run.GetService': (r) => ({ permission: 'run.services.get', resource: String(r.name ?? '') }),
  'run.GetIamPolicy': (r) => ({ permission: 'run.services.getIamPolicy', resource: String(r.resource ?? '') }),
  'run.SetIamPolicy': (r) => ({ permission: 'run.services.setIamPolicy', resource: String(r.resource ?? '') }),
  'functionsV1.GetFunction': (r) => ({ permission: 'cloudfunctions.functions.get', resource: String(r.name ?? '') }),
  'functionsV1.GetIamPolicy': (r) => ({ permission: 'cloudfunctions.functions.getIamPolicy', resource: String(r.resource ?? '') }),
  'functionsV1.SetIamPolicy': (r) => ({ permission: 'cloudfunctions.functions.setIamPolicy', resource: String(r.resource ?? '') }),
  'functionsV2.GetFunction': (r) => ({ permission: 'cloudfunctions.functions.get', resource: String(r.name ?? '') }),
  'iam.GetIamPolicy': (r) => ({ permission: String(r.resource ?? '').includes('/services/') ? 'run.services.getIamPolicy' : 'cloudfunctions.functions.getIamPolicy', resource: String(r.resource ?? '') }),
  'iam.SetIamPolicy': (r) => ({ permission: String(r.resource ?? '').includes('/services/') ? 'run.services.setIamPolicy' : 'cloudfunctions.functions.setIamPolicy', resource: String(r.resource ?? '') }),
  'asset.ListAssets': (r) => ({ permission: r.contentType === 'IAM_POLICY' ? 'cloudasset.assets.listIamPolicy' : 'cloudasset.assets.listResource', resource: String(r.parent ?? '') }),
};

function matches(grant: PermissionGrant, permission: string, resources: readonly string[]): boolean {
  const p = grant.permission.endsWith('*') ? permission.startsWith(grant.permission.slice(0, -1)) : permission === grant.permission;
  if (!p) return false;
  if (grant.resource === '*') return true;
  return resources.some((r) => r === grant.resource || r.startsWith(`${grant.resource}/`));
}

/**
 * Per-caller authorization, checked before the resource is looked up, as AIP-211 asks: a caller
 * who may not read something gets PERMISSION_DENIED whether it exists or not, so a missing
 * resource is NOT_FOUND only for a caller allowed to see it.
 */
export class AccessControl {
  caller = 'default';

  constructor(
    private readonly map: PermissionMap = {},
    /** The resource name with its project as a number too, so grants may name either. */
    private readonly aliases: (resource: string) => string[] = (r) => [r],
  ) {}

  check(method: string, request: Json): void {
    const grants = this.map[this.caller];
    if (!grants) return;
    const needed = METHOD_PERMISSIONS[method]?.(request);
    if (!needed) return;
    if (grants.some((g) => matches(g, needed.permission, this.aliases(needed.resource)))) return;
    fail('PERMISSION_DENIED', `Permission '${needed.permission}' denied on resource '${needed.resource}' (or it may not exist).`);
  }
}
