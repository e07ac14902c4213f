import type { CoverageGap } from '../inventory/source.js';
import type { Inventory } from '../model/inventory.js';

const RESOURCE_SCOPE = /^(projects|folders|organizations)\/[^/]+$/;

/**
 * What a finished scan saw completely, for the lifecycle: whether a coverage gap covers a
 * project (its id, its number, or a folder or organization above it), and whether a project was
 * listed completely (it is in the inventory, no gap covers it, and no record was unreadable,
 * since an unreadable record may have been one of its jobs). A gap whose scope names no project,
 * folder or organization covers everything.
 */
export function coverage(inventory: Inventory, gaps: readonly CoverageGap[], unreadableRecords: number) {
  const scopes = new Set<string>();
  let everything = false;
  for (const g of gaps) {
    const scope = g.scope.trim();
    if (RESOURCE_SCOPE.test(scope)) scopes.add(scope);
    else everything = true;
  }
  const aboveProjects = [...scopes].some((s) => !s.startsWith('projects/'));
  const gapCovers = (project: string): boolean => {
    if (everything) return true;
    const number = inventory.projectNumber(project);
    const id = inventory.projectId(project);
    if (scopes.has(`projects/${project}`) || (number && scopes.has(`projects/${number}`)) || (id && scopes.has(`projects/${id}`))) return true;
    if (!aboveProjects) return false;
    // A folder or organization gap covers the projects below it; one whose ancestry is unknown may be below it.
    const ancestors = number ? inventory.ancestorsOf({ project: number }) : undefined;
    return ancestors === undefined || ancestors.some((a) => scopes.has(a));
  };
  const listedCompletely = (project: string): boolean =>
    unreadableRecords === 0 && inventory.projectNumber(project) !== undefined && !gapCovers(project);
  return { gapCovers, listedCompletely };
}
