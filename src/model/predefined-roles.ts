/**
 * Predefined roles that hold the permissions the rules check.
 *
 * Source: iann0036/iam-dataset `gcp/roles/*.json`, as of 2026-08, consistent with Google's
 * Cloud Run, Cloud Functions and Cloud Scheduler access-control pages (GCP-FACTS §3, §9).
 * Each list is every predefined role that held the permission on that date, so a predefined
 * role not listed here does not grant it. Refresh by re-reading the dataset and updating
 * ROLE_TABLE_DATE.
 *
 * The Cloud Run jobs and Workflows permissions (GCP-FACTS §15) come from the same dataset's
 * role files, read 2026-12; test/model/iam-dataset-excerpt.json keeps what each role file held,
 * with its commit, and a test checks these lists against it.
 */
export const ROLE_TABLE_DATE = '2026-08';

const SERVICE_AGENTS = (names: string[]): string[] => names.map((n) => `roles/${n}.serviceAgent`);

export const PREDEFINED_ROLES_BY_PERMISSION: Readonly<Record<string, ReadonlySet<string>>> = {
  'run.routes.invoke': new Set([
    ...[
      'run.invoker',
      'run.servicesInvoker',
      'run.developer',
      'run.sourceDeveloper',
      'run.admin',
      'run.editor',
      'cloudfunctions.admin',
      'cloudfunctions.developer',
      'cloudfunctions.editor',
      'editor',
      'owner',
      'firebase.admin',
      'firebase.developAdmin',
      'iam.dataScientist',
      'iam.devOps',
      'iam.mlEngineer',
    ].map((r) => `roles/${r}`),
    ...SERVICE_AGENTS([
      'aiplatform',
      'ces',
      'cloudfunctions',
      'dialogflow',
      'firebaseapphosting',
      'firebasedataconnect',
      'integrations',
      'run',
      'serverless',
      'spanner',
      'visionai',
    ]),
    'roles/monitoring.notificationServiceAgent',
  ]),
  'cloudfunctions.functions.invoke': new Set([
    ...[
      'cloudfunctions.invoker',
      'cloudfunctions.admin',
      'cloudfunctions.developer',
      'cloudfunctions.editor',
      'editor',
      'owner',
      'firebase.admin',
      'firebase.developAdmin',
      'iam.dataScientist',
      'iam.devOps',
    ].map((r) => `roles/${r}`),
    ...SERVICE_AGENTS([
      'ces',
      'cloudfunctions',
      'contentwarehouse',
      'dialogflow',
      'identitytoolkit',
      'integrations',
      'visionai',
    ]),
  ]),
  'run.jobs.run': new Set(
    [
      'run.invoker',
      'run.jobsExecutor',
      'run.jobsExecutorWithOverrides',
      'run.developer',
      'run.admin',
      'run.editor',
      'run.sourceDeveloper',
      'cloudfunctions.admin',
      'firebase.admin',
      'firebase.developAdmin',
      'iam.dataScientist',
      'iam.devOps',
      'iam.mlEngineer',
      'editor',
      'owner',
    ].map((r) => `roles/${r}`),
  ),
  'run.jobs.runWithOverrides': new Set(
    [
      'run.jobsExecutorWithOverrides',
      'run.developer',
      'run.admin',
      'run.editor',
      'run.sourceDeveloper',
      'cloudfunctions.admin',
      'firebase.admin',
      'iam.dataScientist',
      'iam.devOps',
      'iam.mlEngineer',
      'editor',
      'owner',
    ].map((r) => `roles/${r}`),
  ),
  'workflows.executions.create': new Set(['workflows.invoker', 'workflows.editor', 'workflows.admin', 'editor', 'owner'].map((r) => `roles/${r}`)),
  'run.services.setIamPolicy': new Set(
    [
      'run.admin',
      'cloudfunctions.admin',
      'iam.securityAdmin',
      'owner',
      'firebase.admin',
      'firebase.developAdmin',
      'firebasemods.serviceAgent',
    ].map((r) => `roles/${r}`),
  ),
  'cloudfunctions.functions.setIamPolicy': new Set(
    [
      'cloudfunctions.admin',
      'iam.securityAdmin',
      'owner',
      'firebase.admin',
      'firebase.developAdmin',
      'firebasemods.serviceAgent',
    ].map((r) => `roles/${r}`),
  ),
};

/** Permissions the IAM evaluator knows; asking for another is a programming error. */
export type KnownPermission = keyof typeof PREDEFINED_ROLES_BY_PERMISSION;

export const SCHEDULER_SERVICE_AGENT_ROLE = 'roles/cloudscheduler.serviceAgent';
