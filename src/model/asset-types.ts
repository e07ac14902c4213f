/** Cloud Asset Inventory asset types the model reads (GCP-FACTS §2, §11). */
export const ASSET_TYPES = {
  job: 'cloudscheduler.googleapis.com/Job',
  runService: 'run.googleapis.com/Service',
  /** Cloud Run jobs and workflows: what Scheduler jobs with OAuth tokens run (GCP-FACTS §15). */
  runJob: 'run.googleapis.com/Job',
  workflow: 'workflows.googleapis.com/Workflow',
  functionV1: 'cloudfunctions.googleapis.com/CloudFunction',
  functionV2: 'cloudfunctions.googleapis.com/Function',
  serviceAccount: 'iam.googleapis.com/ServiceAccount',
  role: 'iam.googleapis.com/Role',
  organization: 'cloudresourcemanager.googleapis.com/Organization',
  folder: 'cloudresourcemanager.googleapis.com/Folder',
  project: 'cloudresourcemanager.googleapis.com/Project',
} as const;

export const USED_ASSET_TYPES: ReadonlySet<string> = new Set(Object.values(ASSET_TYPES));

/** Asset types whose IAM policies matter; the others' policies are skipped. */
export const POLICY_ASSET_TYPES: ReadonlySet<string> = new Set([
  ASSET_TYPES.runService,
  ASSET_TYPES.runJob,
  ASSET_TYPES.workflow,
  ASSET_TYPES.functionV1,
  ASSET_TYPES.functionV2,
  ASSET_TYPES.organization,
  ASSET_TYPES.folder,
  ASSET_TYPES.project,
]);

/** `//cloudresourcemanager.googleapis.com/projects/123` for an ancestor entry `projects/123`. */
export function containerAssetName(ancestor: string): string {
  return `//cloudresourcemanager.googleapis.com/${ancestor}`;
}

/** Strips the `//service.googleapis.com/` prefix of a CAI full resource name. */
export function relativeName(assetName: string): string {
  const m = /^\/\/[^/]+\/(.*)$/.exec(assetName);
  return m ? m[1]! : assetName;
}
