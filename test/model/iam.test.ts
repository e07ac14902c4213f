import { describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { checkAccess, memberCovers, publicGrants, roleHolds, type AccessQuery, type PolicyStore } from '../../src/model/iam.js';
import { InventoryBuilder, type Inventory } from '../../src/model/inventory.js';
import type { Binding, CustomRole, Policy } from '../../src/model/types.js';
import {
  FOLDER, NUMBER, ORG, SA, baseWorld, bind, folder, folderPolicy, job, org, orgPolicy, project, projectPolicy, runName, runPolicy, withRecords,
} from '../support/builders.js';

const SERVICE = runName('svc');
const PROJECT_NODE = `//cloudresourcemanager.googleapis.com/projects/${NUMBER}`;
const FOLDER_NODE = `//cloudresourcemanager.googleapis.com/folders/${FOLDER}`;
const ORG_NODE = `//cloudresourcemanager.googleapis.com/organizations/${ORG}`;
const ANCESTORS = [`projects/${NUMBER}`, `folders/${FOLDER}`, `organizations/${ORG}`];
const ME = `serviceAccount:${SA}`;
const CUSTOM = 'projects/proj-alpha/roles/invoker';

function store(policies: Record<string, Binding[] | Policy>, roles: CustomRole[] = []): PolicyStore {
  const byName = new Map(
    Object.entries(policies).map(([name, p]) => [name, Array.isArray(p) ? { bindings: p, origin: 'test', skippedBindings: 0 } : p]),
  );
  const roleMap = new Map(roles.map((r) => [r.name, r]));
  return { policy: (n) => byName.get(n), customRole: (n) => roleMap.get(n) };
}
/** Every container policy present and empty, with `bindings` on the service. */
function world(service: Binding[], containers: Record<string, Binding[] | Policy> = {}, roles: CustomRole[] = []): PolicyStore {
  return store({ [SERVICE]: service, [PROJECT_NODE]: [], [FOLDER_NODE]: [], [ORG_NODE]: [], ...containers }, roles);
}
const q = (over: Partial<AccessQuery> = {}): AccessQuery => ({ member: ME, permission: 'run.routes.invoke', resource: SERVICE, ancestors: ANCESTORS, ...over });
const b = (role: string, members: string[], condition?: string): Binding => ({ role, members, ...(condition ? { condition } : {}) });

describe('checkAccess', () => {
  it('grants through the resource’s own policy', () => {
    const v = checkAccess(world([b('roles/run.invoker', [ME])]), q());
    expect(v).toEqual({ result: 'granted', grants: [{ resource: SERVICE, role: 'roles/run.invoker', member: ME }] });
  });

  it.each([
    ['project', PROJECT_NODE],
    ['folder', FOLDER_NODE],
    ['organization', ORG_NODE],
  ])('grants through the %s policy', (_, node) => {
    const v = checkAccess(world([], { [node]: [b('roles/run.invoker', [ME])] }), q());
    expect(v.result).toBe('granted');
    expect(v.result === 'granted' && v.grants[0]!.resource).toBe(node);
  });

  it('denies when no policy on the path grants, naming every policy read', () => {
    const v = checkAccess(world([b('roles/run.invoker', ['serviceAccount:other@proj-alpha.iam.gserviceaccount.com'])]), q());
    expect(v).toEqual({ result: 'denied', checkedPolicies: [SERVICE, PROJECT_NODE, FOLDER_NODE, ORG_NODE] });
  });

  it.each(['roles/editor', 'roles/owner', 'roles/run.servicesInvoker', 'roles/run.developer', 'roles/cloudfunctions.developer'])('%s grants run.routes.invoke', (role) => {
    expect(checkAccess(world([], { [PROJECT_NODE]: [b(role, [ME])] }), q()).result).toBe('granted');
  });

  it.each(['roles/viewer', 'roles/run.viewer', 'roles/cloudfunctions.invoker', 'roles/iam.serviceAccountUser'])('%s does not grant run.routes.invoke', (role) => {
    expect(checkAccess(world([b(role, [ME])], { [PROJECT_NODE]: [b(role, [ME])] }), q()).result).toBe('denied');
  });

  it('treats the permissions of the two invoke paths apart', () => {
    const fnQuery = q({ permission: 'cloudfunctions.functions.invoke' });
    expect(checkAccess(world([b('roles/run.invoker', [ME])]), fnQuery).result).toBe('denied');
    expect(checkAccess(world([b('roles/cloudfunctions.invoker', [ME])]), fnQuery).result).toBe('granted');
  });

  describe('custom roles', () => {
    it('grants when the inventory’s role holds the permission', () => {
      const v = checkAccess(world([b(CUSTOM, [ME])], {}, [{ name: CUSTOM, permissions: new Set(['run.routes.invoke']), deleted: false }]), q());
      expect(v.result).toBe('granted');
    });
    it('denies when the role lacks the permission', () => {
      const v = checkAccess(world([b(CUSTOM, [ME])], {}, [{ name: CUSTOM, permissions: new Set(['run.services.get']), deleted: false }]), q());
      expect(v.result).toBe('denied');
    });
    it('denies when the role is deleted', () => {
      const v = checkAccess(world([b(CUSTOM, [ME])], {}, [{ name: CUSTOM, permissions: new Set(['run.routes.invoke']), deleted: true }]), q());
      expect(v.result).toBe('denied');
    });
    it('is unverifiable when the role is not in the inventory', () => {
      const v = checkAccess(world([b(CUSTOM, [ME])]), q());
      expect(v.result).toBe('unverifiable');
      expect(v.result === 'unverifiable' && v.reasons.join()).toContain(`custom role ${CUSTOM} is not in the inventory`);
      expect(v.result === 'unverifiable' && v.possibleGrants).toHaveLength(1);
    });
    it('is unverifiable for a role name of an unknown form', () => {
      expect(checkAccess(world([b('invoker', [ME])]), q()).result).toBe('unverifiable');
    });
  });

  describe('members', () => {
    it.each(['allUsers', 'allAuthenticatedUsers'])('%s grants', (member) => {
      expect(checkAccess(world([b('roles/run.invoker', [member])]), q()).result).toBe('granted');
    });
    it.each([
      ['group', 'group:schedulers@example.com', 'group schedulers@example.com'],
      ['domain', 'domain:example.com', 'domain example.com'],
      ['principalSet', 'principalSet://goog/group/schedulers@example.com', 'principal identifier'],
    ])('a %s member makes the verdict unverifiable', (_, member, why) => {
      const v = checkAccess(world([b('roles/run.invoker', [member])]), q());
      expect(v.result).toBe('unverifiable');
      expect(v.result === 'unverifiable' && v.reasons.join()).toContain(why);
    });
    it.each([
      `deleted:serviceAccount:${SA}?uid=112233445566778899001`,
      `user:${SA}`,
      'projectOwner:proj-alpha',
      'serviceAccount:',
    ])('%s grants nothing', (member) => {
      expect(checkAccess(world([b('roles/run.invoker', [member])]), q()).result).toBe('denied');
    });
    it('matches the email case-insensitively, both ways', () => {
      expect(checkAccess(world([b('roles/run.invoker', [ME.replace('invoker@', 'Invoker@')])]), q()).result).toBe('granted');
      expect(checkAccess(world([b('roles/run.invoker', [ME])]), q({ member: `serviceAccount:${SA.toUpperCase()}` })).result).toBe('granted');
    });
  });

  it('makes a conditional binding unverifiable, naming the condition', () => {
    const v = checkAccess(world([b('roles/run.invoker', [ME], 'weekdays-only')]), q());
    expect(v.result).toBe('unverifiable');
    expect(v.result === 'unverifiable' && v.reasons.join()).toContain('weekdays-only');
  });

  it('ignores a conditional binding of a role that cannot grant anyway', () => {
    expect(checkAccess(world([b('roles/viewer', [ME], 'weekdays-only')]), q()).result).toBe('denied');
  });

  it('names the group of a grant whose only doubt is membership, and keeps gaps apart', () => {
    const v = checkAccess(world([b('roles/run.invoker', ['group:g@example.com', 'domain:example.com']), b('roles/run.invoker', ['group:c@example.com'], 'weekdays-only')]), q());
    expect(v.result).toBe('unverifiable');
    if (v.result !== 'unverifiable') return;
    // Only the unconditional group grant can be settled by asking Cloud Identity.
    expect(v.possibleGrants.map((g) => [g.member, g.group])).toEqual([
      ['group:g@example.com', 'g@example.com'],
      ['domain:example.com', undefined],
      ['group:c@example.com', undefined],
    ]);
    expect(v.gaps).toEqual([]);
    const gap = checkAccess(store({ [SERVICE]: [b('roles/run.invoker', ['group:g@example.com'])], [PROJECT_NODE]: [], [ORG_NODE]: [] }), q());
    expect(gap.result === 'unverifiable' && gap.gaps.join()).toMatch(/not in the inventory/);
  });

  it('lets a definite grant win over possible ones', () => {
    const v = checkAccess(world([b('roles/run.invoker', ['group:g@example.com'])], { [ORG_NODE]: [b('roles/run.invoker', [ME])] }), q());
    expect(v.result).toBe('granted');
  });

  describe('coverage gaps', () => {
    const noFolder = store({ [SERVICE]: [], [PROJECT_NODE]: [], [ORG_NODE]: [] });
    it('a missing ancestor policy makes a denial unverifiable', () => {
      const v = checkAccess(noFolder, q());
      expect(v.result).toBe('unverifiable');
      expect(v.result === 'unverifiable' && v.reasons).toEqual([`IAM policy of folders/${FOLDER} is not in the inventory (coverage gap)`]);
      expect(v.result === 'unverifiable' && v.checkedPolicies).toEqual([SERVICE, PROJECT_NODE, ORG_NODE]);
    });
    it('a direct grant still passes', () => {
      const v = checkAccess(store({ [SERVICE]: [b('roles/run.invoker', [ME])] }), q());
      expect(v.result).toBe('granted');
    });
    it('an unknown ancestry makes a denial unverifiable', () => {
      const v = checkAccess(world([]), q({ ancestors: undefined }));
      expect(v.result).toBe('unverifiable');
      expect(v.result === 'unverifiable' && v.reasons.join()).toContain('ancestry');
    });
    it('a resource without a policy of its own reads as empty', () => {
      expect(checkAccess(store({ [PROJECT_NODE]: [], [FOLDER_NODE]: [], [ORG_NODE]: [] }), q()).result).toBe('denied');
    });
    it('malformed bindings dropped from a policy make a denial unverifiable', () => {
      const v = checkAccess(world([], { [PROJECT_NODE]: { bindings: [], origin: 'test', skippedBindings: 2 } }), q());
      expect(v.result).toBe('unverifiable');
      expect(v.result === 'unverifiable' && v.reasons.join()).toContain('2 malformed binding(s)');
    });
    it('malformed bindings do not undo a definite grant', () => {
      const v = checkAccess(world([b('roles/run.invoker', [ME])], { [PROJECT_NODE]: { bindings: [], origin: 'test', skippedBindings: 1 } }), q());
      expect(v.result).toBe('granted');
    });
  });
});

describe('roleHolds and memberCovers', () => {
  it('reads predefined roles from the table', () => {
    const s = store({});
    expect(roleHolds(s, 'roles/run.invoker', 'run.routes.invoke').holds).toBe('yes');
    expect(roleHolds(s, 'roles/run.invoker', 'cloudfunctions.functions.invoke').holds).toBe('no');
    expect(roleHolds(s, 'roles/cloudfunctions.invoker', 'cloudfunctions.functions.invoke').holds).toBe('yes');
    expect(roleHolds(s, 'roles/firebase.admin', 'run.routes.invoke').holds).toBe('yes');
    expect(roleHolds(s, 'organizations/1/roles/x', 'run.routes.invoke')).toMatchObject({ holds: 'maybe' });
  });
  it('covers only the named account among service accounts', () => {
    expect(memberCovers(`serviceAccount:${SA}`, SA).covers).toBe('yes');
    expect(memberCovers('serviceAccount:other@proj-alpha.iam.gserviceaccount.com', SA).covers).toBe('no');
    expect(memberCovers('allUsers', SA).covers).toBe('yes');
    expect(memberCovers('group:g@example.com', SA).covers).toBe('maybe');
  });
  it('treats a DISABLED or deleted custom role as granting nothing', () => {
    const role = (name: string, extra: Partial<CustomRole>): CustomRole => ({ name, permissions: new Set(['run.routes.invoke']), deleted: false, ...extra });
    const s = store({}, [role('organizations/1/roles/ga', { stage: 'GA' }), role('organizations/1/roles/off', { stage: 'DISABLED' }), role('organizations/1/roles/gone', { deleted: true })]);
    expect(roleHolds(s, 'organizations/1/roles/ga', 'run.routes.invoke').holds).toBe('yes');
    expect(roleHolds(s, 'organizations/1/roles/off', 'run.routes.invoke').holds).toBe('no');
    expect(roleHolds(s, 'organizations/1/roles/gone', 'run.routes.invoke').holds).toBe('no');
  });
  it('resolves principal sets of service accounts from where the account sits', () => {
    const set = (container: string): string => `principalSet://cloudresourcemanager.googleapis.com/${container}/type/ServiceAccount`;
    const placed: PolicyStore = { ...store({}), serviceAccountPlacement: () => ({ projectNumber: '30', containers: ['projects/30', 'folders/20', 'organizations/10'] }) };
    expect(memberCovers(set('projects/30'), SA, placed).covers).toBe('yes');
    expect(memberCovers(set('folders/20'), SA, placed).covers).toBe('yes');
    expect(memberCovers(set('organizations/10'), SA, placed).covers).toBe('yes');
    expect(memberCovers(set('projects/31'), SA, placed).covers).toBe('no');
    expect(memberCovers(set('organizations/11'), SA, placed).covers).toBe('no');
    expect(memberCovers(set('projects/proj-alpha'), SA, placed)).toMatchObject({ covers: 'maybe', why: expect.stringContaining('by number') });
    const projectOnly: PolicyStore = { ...store({}), serviceAccountPlacement: () => ({ projectNumber: '30', containers: undefined, why: 'folders unknown' }) };
    expect(memberCovers(set('projects/30'), SA, projectOnly).covers).toBe('yes');
    expect(memberCovers(set('folders/20'), SA, projectOnly)).toMatchObject({ covers: 'maybe', why: expect.stringContaining('folders unknown') });
    const nowhere: PolicyStore = { ...store({}), serviceAccountPlacement: () => ({ projectNumber: undefined, why: 'project unknown' }) };
    expect(memberCovers(set('projects/30'), SA, nowhere)).toMatchObject({ covers: 'maybe', why: expect.stringContaining('project unknown') });
    // Without a store that can place accounts, and for other principal sets, nothing is resolved.
    expect(memberCovers(set('projects/30'), SA).covers).toBe('maybe');
    expect(memberCovers('principalSet://iam.googleapis.com/locations/global/workforcePools/p/*', SA, placed).covers).toBe('maybe');
  });
});

describe('publicGrants', () => {
  it('lists allUsers holding the permission, without conditions; allAuthenticatedUsers still needs a token, so it is not public', () => {
    const s = store({
      [SERVICE]: [
        b('roles/run.invoker', ['allUsers', ME]),
        b('roles/run.servicesInvoker', ['allAuthenticatedUsers']),
        b('roles/run.viewer', ['allUsers']),
        b('roles/run.invoker', ['allUsers'], 'office-hours'),
      ],
    });
    expect(publicGrants(s, SERVICE, 'run.routes.invoke')).toEqual([
      { resource: SERVICE, role: 'roles/run.invoker', member: 'allUsers' },
    ]);
  });
  it('is empty for a resource without a policy', () => {
    expect(publicGrants(store({}), SERVICE, 'run.routes.invoke')).toEqual([]);
  });
});

describe('Inventory ancestry and access', () => {
  function inventory(records: AssetRecord[]): Inventory {
    const builder = new InventoryBuilder((p) => {
      throw new Error(p.message);
    });
    for (const r of records) builder.add(r);
    return builder.finish();
  }
  /** As older exports: no `ancestors` on any record; containers name their parent in `resource.parent`. */
  function olderExport(records: AssetRecord[], parents: Record<string, string>): AssetRecord[] {
    return records.map(({ ancestors: _dropped, ...r }) => (parents[r.name] && r.resource ? { ...r, resource: { ...r.resource, parent: parents[r.name] } } : r));
  }
  const PARENTS = { [project().name]: folder().name, [folder().name]: org().name };
  const orgGrant = (): AssetRecord[] => withRecords(baseWorld(), runPolicy('svc'), orgPolicy(bind('roles/run.invoker', ME)));

  it('uses the asset’s own ancestors when present', () => {
    const inv = inventory([...baseWorld(), job()]);
    expect(inv.ancestorsOf({ project: 'proj-alpha', ancestors: ['projects/9', 'organizations/8'] })).toEqual(['projects/9', 'organizations/8']);
    expect(inv.ancestorsOf({ project: 'proj-alpha' })).toEqual(ANCESTORS);
  });

  it('rebuilds the chain from parents when assets lack ancestors', () => {
    const inv = inventory(olderExport(orgGrant(), PARENTS));
    const service = inv.runServices.find((s) => s.serviceName === 'svc')!;
    expect(service.ancestors).toBeUndefined();
    expect(inv.ancestorsOf(service)).toEqual(ANCESTORS);
    expect(inv.ancestorsOf({ project: NUMBER })).toEqual(ANCESTORS);
    const v = inv.access({ member: ME, permission: 'run.routes.invoke', resource: service.source.assetName, ancestors: inv.ancestorsOf(service) });
    expect(v).toMatchObject({ result: 'granted', grants: [{ resource: ORG_NODE, role: 'roles/run.invoker' }] });
  });

  it('rebuilds a chain with no folder', () => {
    const inv = inventory(olderExport(baseWorld(), { [project().name]: org().name }));
    expect(inv.ancestorsOf({ project: 'proj-alpha' })).toEqual([`projects/${NUMBER}`, `organizations/${ORG}`]);
  });

  it('gives up (undefined) when a parent is missing, so a denial becomes unverifiable', () => {
    const inv = inventory(olderExport(withRecords(baseWorld(), runPolicy('svc')), { [project().name]: folder().name }));
    const service = inv.runServices.find((s) => s.serviceName === 'svc')!;
    expect(inv.ancestorsOf(service)).toBeUndefined();
    const v = inv.access({ member: ME, permission: 'run.routes.invoke', resource: service.source.assetName, ancestors: inv.ancestorsOf(service) });
    expect(v.result).toBe('unverifiable');
  });

  it('gives up on a cycle of parents', () => {
    const inv = inventory(olderExport(baseWorld(), { [project().name]: folder().name, [folder().name]: folder().name }));
    expect(inv.ancestorsOf({ project: 'proj-alpha' })).toBeUndefined();
  });

  it('is undefined for a project the inventory does not know', () => {
    expect(inventory(baseWorld()).ancestorsOf({ project: 'proj-beta' })).toBeUndefined();
  });

  it('records container policies a verdict needed and lacked', () => {
    const inv = inventory(withRecords(baseWorld(), runPolicy('svc')).filter((r) => !(r.iamPolicy && r.name === folderPolicy().name)));
    inv.access({ member: ME, permission: 'run.routes.invoke', resource: SERVICE, ancestors: ANCESTORS });
    expect([...inv.missingPolicies]).toEqual([`folders/${FOLDER}`]);
  });

  it('caches verdicts per member, permission, resource and ancestry', () => {
    const inv = inventory([...withRecords(baseWorld(), projectPolicy(bind('roles/run.invoker', ME)))]);
    const first = inv.access(q());
    expect(inv.access(q())).toBe(first);
    expect(inv.access(q({ permission: 'cloudfunctions.functions.invoke' }))).not.toBe(first);
  });
});
