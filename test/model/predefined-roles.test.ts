import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PREDEFINED_ROLES_BY_PERMISSION } from '../../src/model/predefined-roles.js';

/** What each role file of the dataset held, as read, with its commit (see the file's note). */
interface Excerpt {
  permissions: string[];
  roles: Record<string, { commit: string; holds: string[] }>;
}
const excerpt = JSON.parse(readFileSync(new URL('./iam-dataset-excerpt.json', import.meta.url), 'utf8')) as Excerpt;

/** Roles of the excerpt that hold a permission; `roles/owner` holds every `roles/editor` permission (IAM basic roles). */
function holdersInExcerpt(permission: string): string[] {
  const holders = Object.entries(excerpt.roles).filter(([, r]) => r.holds.includes(permission)).map(([role]) => role);
  if (holders.includes('roles/editor') && !holders.includes('roles/owner')) holders.push('roles/owner');
  return holders.sort();
}

describe('predefined-role table against the dataset excerpt', () => {
  it('records a 40-hex commit and only permissions it covers for every role read', () => {
    for (const [role, r] of Object.entries(excerpt.roles)) {
      expect(r.commit, role).toMatch(/^[0-9a-f]{40}$/);
      for (const p of r.holds) expect(excerpt.permissions, `${role} ${p}`).toContain(p);
    }
  });

  // "Not listed = does not grant": an omission is a false fail, an extra entry a false pass.
  it.each(['run.jobs.run', 'run.jobs.runWithOverrides', 'workflows.executions.create'])('lists exactly the roles that hold %s', (permission) => {
    expect([...PREDEFINED_ROLES_BY_PERMISSION[permission]!].sort()).toEqual(holdersInExcerpt(permission));
  });

  it('lists every role of the excerpt holding run.routes.invoke, and no role the excerpt shows without it', () => {
    const table = PREDEFINED_ROLES_BY_PERMISSION['run.routes.invoke']!;
    for (const role of holdersInExcerpt('run.routes.invoke')) expect(table.has(role), role).toBe(true);
    for (const [role, r] of Object.entries(excerpt.roles)) if (!r.holds.includes('run.routes.invoke') && role !== 'roles/owner') expect(table.has(role), role).toBe(false);
  });

  it('does not give run.jobs.runWithOverrides to the roles that only run jobs', () => {
    for (const role of ['roles/run.invoker', 'roles/run.jobsExecutor', 'roles/firebase.developAdmin']) {
      expect(PREDEFINED_ROLES_BY_PERMISSION['run.jobs.run']!.has(role), role).toBe(true);
      expect(PREDEFINED_ROLES_BY_PERMISSION['run.jobs.runWithOverrides']!.has(role), role).toBe(false);
    }
  });
});
