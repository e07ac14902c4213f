/**
 * Predefined roles that hold the permissions the rules check.
 *
 * Source: iann0036/iam-dataset `gcp/roles/*.json`, as of 2026-08, consistent with Google's
 * Cloud Run, Cloud Functions and Cloud Scheduler access-control pages (GCP-FACTS §3, §9).
 * Each list is every predefined role that held the permission on that date, so a predefined
 * role not listed here does not grant it. Refresh by re-reading the dataset and updating
 * ROLE_TABLE_DATE.
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
