import type { GoogleClientOptions } from '../../google/client-options.js';
import type { Logger } from '../../log/logger.js';
import { ASSET_TYPES, containerAssetName } from '../../model/asset-types.js';
import type { IamPolicyJson, RecordResult } from '../asset-record.js';
import { describeGrpcError, grpcCode } from '../cai/retry.js';
import type { CoverageGap } from '../source.js';
import { grantHint, type ReadAboveCall } from './read-permissions.js';

type ResourceManager = typeof import('@google-cloud/resource-manager');
type PolicyMessage = import('@google-cloud/resource-manager').protos.google.iam.v1.IPolicy;

export interface AncestorReadOptions {
  /** The scan's scopes: `organizations/N`, `folders/N`, `projects/ID_OR_NUMBER`. Only projects and folders are walked. */
  scopes: readonly string[];
  logger: Logger;
  clientOptions: GoogleClientOptions;
  /** Deadline of one call. Default 60 s. */
  callTimeoutMs?: number;
}

export interface AncestorReport {
  gaps: CoverageGap[];
  /** Resource Manager calls made, by method. */
  calls: Record<string, number>;
}

/**
 * The folders and organization above the scan's projects and folders, with their IAM policies:
 * a Cloud Asset listing of a project or folder holds what lies inside it, while an invoker
 * grant on a folder or organization above it reaches every service beneath.
 *
 * Resource Manager v3 gives the chain (`GetProject` → `parent` → `GetFolder` … up to the
 * organization) and each container's policy (`GetIamPolicy`). Each container is read once
 * however many scopes share it; one that is itself a scope of the scan is left to its Cloud
 * Asset listing. Every container read becomes an asset record, the same shape a Cloud Asset
 * listing gives, so the model treats both alike. A call that is refused becomes a coverage gap
 * that names the permission (and a role) that would settle it; a project without an
 * organization has nothing above it and no gap.
 */
export async function readAncestorPolicies(opts: AncestorReadOptions, onRecord: (result: RecordResult) => void): Promise<AncestorReport> {
  const walked = opts.scopes.filter((s) => s.startsWith('projects/') || s.startsWith('folders/'));
  const report: AncestorReport = { gaps: [], calls: {} };
  if (walked.length === 0) return report;
  const rm: ResourceManager = await import('@google-cloud/resource-manager');
  const projects = new rm.ProjectsClient({ ...opts.clientOptions });
  const folders = new rm.FoldersClient({ ...opts.clientOptions });
  const organizations = new rm.OrganizationsClient({ ...opts.clientOptions });
  const callOptions = { timeout: opts.callTimeoutMs ?? 60_000 };
  const scopeSet = new Set(opts.scopes);
  const count = (method: string): void => {
    report.calls[method] = (report.calls[method] ?? 0) + 1;
  };
  const gap = (scope: string, call: ReadAboveCall, what: string, err: unknown): void => {
    const why = describeGrpcError(err);
    const refused = grpcCode(err) === 7 || grpcCode(err) === 16;
    const reason = refused
      ? `${what} refused (${why}); ${grantHint(call, scope)}; verdicts that depend on it are unverifiable`
      : `${what} failed (${why}); verdicts that depend on it are unverifiable`;
    report.gaps.push({ scope, reason });
    opts.logger.warn(`${scope}: ${reason}`);
  };

  /** Each container's read, shared by every scope beneath it. */
  const containers = new Map<string, Promise<void>>();
  const readContainer = (name: string): Promise<void> => {
    let pending = containers.get(name);
    if (!pending) {
      pending = name.startsWith('folders/') ? readFolder(name) : readOrganization(name);
      containers.set(name, pending);
    }
    return pending;
  };

  const policyOf = async (name: string): Promise<IamPolicyJson | undefined> => {
    const isFolder = name.startsWith('folders/');
    count(isFolder ? 'Folders.GetIamPolicy' : 'Organizations.GetIamPolicy');
    try {
      const [policy] = isFolder
        ? await folders.getIamPolicy({ resource: name, options: { requestedPolicyVersion: 3 } }, callOptions)
        : await organizations.getIamPolicy({ resource: name, options: { requestedPolicyVersion: 3 } }, callOptions);
      return policyJson(policy);
    } catch (err) {
      gap(name, isFolder ? 'folderPolicy' : 'organizationPolicy', 'reading its IAM policy', err);
      return undefined;
    }
  };

  async function readFolder(name: string): Promise<void> {
    count('Folders.GetFolder');
    let parent: string;
    try {
      const [folder] = await folders.getFolder({ name }, callOptions);
      parent = folder.parent ?? '';
    } catch (err) {
      gap(name, 'getFolder', 'reading the folder (to find what is above it)', err);
      return;
    }
    // A folder that is a scope of the scan comes with its policy from its own listing.
    const policy = scopeSet.has(name) ? undefined : await policyOf(name);
    onRecord(containerRecord(ASSET_TYPES.folder, name, parent, policy));
    if (parent) await readContainer(parent);
  }

  async function readOrganization(name: string): Promise<void> {
    if (scopeSet.has(name)) return;
    const policy = await policyOf(name);
    if (policy) onRecord(containerRecord(ASSET_TYPES.organization, name, undefined, policy));
  }

  async function readProject(scope: string): Promise<void> {
    count('Projects.GetProject');
    let project;
    try {
      [project] = await projects.getProject({ name: scope }, callOptions);
    } catch (err) {
      gap(scope, 'getProject', 'reading the project (to find its folders and organization)', err);
      return;
    }
    // The project itself, its policy and its ancestry come from its own listing; only what is above is read here.
    const parent = project.parent ?? '';
    if (parent) await readContainer(parent);
  }

  try {
    opts.logger.info(`reading the folders and organization above ${walked.length} scope(s) through Resource Manager`);
    await Promise.all(walked.map((scope) => (scope.startsWith('projects/') ? readProject(scope) : readContainer(scope))));
  } finally {
    await Promise.all([projects.close(), folders.close(), organizations.close()].map((p) => p.catch(() => undefined)));
  }
  report.gaps.sort((a, b) => a.scope.localeCompare(b.scope));
  return report;
}

function containerRecord(assetType: string, name: string, parent: string | undefined, policy: IamPolicyJson | undefined): RecordResult {
  const record: import('../asset-record.js').AssetRecord = {
    name: containerAssetName(name),
    assetType,
    resource: { data: { name, ...(parent ? { parent } : {}) }, ...(parent ? { parent: containerAssetName(parent) } : {}) },
    origin: `resourcemanager:${name}`,
  };
  if (policy) record.iamPolicy = policy;
  return { ok: true, record };
}

/** The proto message of a policy as the JSON the model reads (bindings with their conditions). */
function policyJson(policy: PolicyMessage): IamPolicyJson {
  return {
    ...(policy.version ? { version: policy.version } : {}),
    bindings: (policy.bindings ?? []).map((b) => ({
      role: b.role ?? '',
      members: [...(b.members ?? [])],
      ...(b.condition ? { condition: { ...(b.condition.expression ? { expression: b.condition.expression } : {}), ...(b.condition.title ? { title: b.condition.title } : {}) } } : {}),
    })),
  };
}
