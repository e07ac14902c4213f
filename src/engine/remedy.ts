/**
 * What a rule's `remediate` describes: data, never an API call. The remediation executors
 * (src/remediation/) turn it into Scheduler or IAM writes, only when asked; rules stay pure.
 */

/** A job's authorization header as Scheduler holds it: the `authorization_header` oneof of HttpTarget. */
export type JobAuthorization =
  | { type: 'none' }
  | { type: 'oidc'; serviceAccountEmail: string; audience?: string }
  | { type: 'oauth'; serviceAccountEmail: string; scope?: string };

/** Replace a job's token (the only job fields remediation ever writes). */
export interface JobTokenChange {
  kind: 'job-token';
  /** `projects/P/locations/L/jobs/J` */
  job: string;
  before: JobAuthorization;
  after: JobAuthorization;
}

/** Which API holds the policy a binding is added to. */
export type PolicyApi = 'run' | 'functions-v1';

/** Add one member to one unconditional role binding on one resource's own policy. */
export interface IamMemberChange {
  kind: 'iam-member';
  api: PolicyApi;
  /** `projects/P/locations/L/services/S` or `projects/P/locations/L/functions/F` */
  resource: string;
  role: string;
  /** `serviceAccount:EMAIL` */
  member: string;
  /** Whether the member held the role unconditionally before (always false in a plan). */
  before: { memberPresent: boolean };
  after: { memberPresent: boolean };
}

export type ProposedChange = JobTokenChange | IamMemberChange;

/** A rule's answer for one failing result: a change that fixes it, or why it stays manual. */
export type Remedy = { change: ProposedChange; why: string } | { manual: string };

/** Operator-supplied facts a fixer may use (never guessed by the rule). */
export interface RemedyOptions {
  /** `--invoker-account PROJECT=EMAIL`: the account to put in tokens of that project's jobs that name none. */
  invokerAccounts: ReadonlyMap<string, string>;
}

export const DEFAULT_OAUTH_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
