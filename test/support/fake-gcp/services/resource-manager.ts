import type protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { messageFromJson } from '../proto-json.js';
import type { AssetStore, StoredAsset } from '../store.js';
import type { PolicyService } from './iam.js';

type Json = Record<string, unknown>;

const PROJECT_TYPE = 'cloudresourcemanager.googleapis.com/Project';
const FOLDER_TYPE = 'cloudresourcemanager.googleapis.com/Folder';
const ORGANIZATION_TYPE = 'cloudresourcemanager.googleapis.com/Organization';

const PROJECT_NAME = /^projects\/[^/]+$/;
const FOLDER_NAME = /^folders\/\d+$/;
const ORGANIZATION_NAME = /^organizations\/\d+$/;

/**
 * Resource Manager v3 over the store: GetProject (by id or number, answering with the number
 * in `name`), GetFolder, GetOrganization, and GetIamPolicy on each. As Google does, a container
 * that does not exist is refused rather than "not found", so that names cannot be probed.
 */
export class ResourceManagerService {
  private readonly projectType: protobuf.Type;
  private readonly folderType: protobuf.Type;
  private readonly organizationType: protobuf.Type;

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly policies: PolicyService,
  ) {
    this.projectType = root.lookupType('google.cloud.resourcemanager.v3.Project');
    this.folderType = root.lookupType('google.cloud.resourcemanager.v3.Folder');
    this.organizationType = root.lookupType('google.cloud.resourcemanager.v3.Organization');
  }

  getProject(req: Json): Json {
    const asset = this.container(String(req.name ?? ''), PROJECT_NAME, PROJECT_TYPE, 'project');
    const data = (asset.resource?.data ?? {}) as Json;
    const name = asset.ancestors?.[0] ?? String(req.name);
    const json: Json = { name, parent: asset.ancestors?.[1] ?? '', state: 'ACTIVE' };
    if (typeof data.projectId === 'string') json.projectId = data.projectId;
    if (typeof data.name === 'string') json.displayName = data.name;
    return messageFromJson(this.projectType, json)!;
  }

  getFolder(req: Json): Json {
    const asset = this.container(String(req.name ?? ''), FOLDER_NAME, FOLDER_TYPE, 'folder');
    const data = (asset.resource?.data ?? {}) as Json;
    const json: Json = { name: String(req.name), parent: asset.ancestors?.[1] ?? '', state: 'ACTIVE' };
    if (typeof data.displayName === 'string') json.displayName = data.displayName;
    return messageFromJson(this.folderType, json)!;
  }

  getOrganization(req: Json): Json {
    const asset = this.container(String(req.name ?? ''), ORGANIZATION_NAME, ORGANIZATION_TYPE, 'organization');
    const data = (asset.resource?.data ?? {}) as Json;
    const json: Json = { name: String(req.name), state: 'ACTIVE' };
    if (typeof data.displayName === 'string') json.displayName = data.displayName;
    return messageFromJson(this.organizationType, json)!;
  }

  getProjectPolicy(req: Json): Json {
    return this.policyOf(String(req.resource ?? ''), PROJECT_NAME, PROJECT_TYPE, 'project');
  }

  getFolderPolicy(req: Json): Json {
    return this.policyOf(String(req.resource ?? ''), FOLDER_NAME, FOLDER_TYPE, 'folder');
  }

  getOrganizationPolicy(req: Json): Json {
    return this.policyOf(String(req.resource ?? ''), ORGANIZATION_NAME, ORGANIZATION_TYPE, 'organization');
  }

  private policyOf(name: string, pattern: RegExp, type: string, label: string): Json {
    this.container(name, pattern, type, label);
    return this.policies.get(name, [type], label);
  }

  private container(name: string, pattern: RegExp, type: string, label: string): StoredAsset {
    if (!pattern.test(name)) fail('INVALID_ARGUMENT', `"${name}" is not a ${label} name`);
    const asset = this.store.find(name, [type])[0];
    if (!asset) fail('PERMISSION_DENIED', `The caller does not have permission on ${name}, or it does not exist`);
    return asset;
  }
}
