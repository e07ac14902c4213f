import rule from '../../rules/oauth-sa-can-call-target.js';
import { ruleTester } from '../support/rule-tester.js';
import {
  FOLDER, NUMBER, ORG, PROJECT, REGION, SA, baseWorld, bind, customRole, defaultProjectBindings, folderPolicy, job, orgPolicy, projectPolicy,
  runJob, runJobPolicy, withRecords, without, workflow, workflowPolicy,
} from '../support/builders.js';

const ME = `serviceAccount:${SA}`;
const RUN_V2 = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/etl:run`;
const RUN_V1 = `https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/etl:run`;
const RUN_V1_BY_NUMBER = `https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${NUMBER}/jobs/etl:run`;
const WORKFLOW = `https://workflowexecutions.googleapis.com/v1/projects/${PROJECT}/locations/${REGION}/workflows/wf/executions`;
const ROLE = `projects/${PROJECT}/roles/jobRunner`;
const OVERRIDES = { overrides: { containerOverrides: [{ args: ['--full'] }], taskCount: 2 } };

/** The base organization with a Cloud Run job and a workflow; the token's account holds nothing on them. */
const world = (...records: ReturnType<typeof runJob>[]): ReturnType<typeof baseWorld> => withRecords([...baseWorld(), runJob(), workflow()], ...records);
const projectGrant = (...bindings: ReturnType<typeof bind>[]): ReturnType<typeof projectPolicy> => projectPolicy(...defaultProjectBindings(), ...bindings);

ruleTester(rule, {
  valid: [
    { name: 'run.invoker on the Cloud Run job (v2 API)', assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: RUN_V2, oauth: {} })] },
    { name: 'run.jobsExecutor on the job (v1 regional API)', assets: [...world(runJobPolicy('etl', bind('roles/run.jobsExecutor', ME))), job({ uri: RUN_V1, oauth: {} })] },
    { name: 'v1 API naming the project by number', assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: RUN_V1_BY_NUMBER, oauth: {} })] },
    {
      name: 'v1 API on the global host: the job found by project and name',
      assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: `https://run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/etl:run`, oauth: {} })],
    },
    { name: 'run.developer inherited from the project', assets: [...world(projectGrant(bind('roles/run.developer', ME))), job({ uri: RUN_V2, oauth: {} })] },
    { name: 'roles/editor on the folder', assets: [...world(folderPolicy(bind('roles/editor', ME))), job({ uri: RUN_V2, oauth: {} })] },
    {
      name: 'overrides in the body with run.jobsExecutorWithOverrides',
      assets: [...world(runJobPolicy('etl', bind('roles/run.jobsExecutorWithOverrides', ME))), job({ uri: RUN_V2, oauth: {}, body: OVERRIDES })],
    },
    { name: 'a body without overrides needs only run.jobs.run', assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: RUN_V2, oauth: {}, body: {} })] },
    { name: 'custom role holding run.jobs.run', assets: [...world(customRole(ROLE, ['run.jobs.run']), runJobPolicy('etl', bind(ROLE, ME))), job({ uri: RUN_V2, oauth: {} })] },
    {
      name: 'principal set of the account’s organization',
      assets: [...world(orgPolicy(bind('roles/run.invoker', `principalSet://cloudresourcemanager.googleapis.com/organizations/${ORG}/type/ServiceAccount`))), job({ uri: RUN_V2, oauth: {} })],
    },
    { name: 'workflows.invoker on the workflow', assets: [...world(workflowPolicy('wf', bind('roles/workflows.invoker', ME))), job({ uri: WORKFLOW, oauth: {} })] },
    { name: 'workflows.invoker on the project', assets: [...world(projectGrant(bind('roles/workflows.invoker', ME))), job({ uri: WORKFLOW, oauth: {} })] },
    { name: 'an OIDC token is another rule’s business', assets: [...world(), job({ uri: RUN_V2, oidc: {} })] },
    { name: 'a GET is not a run', assets: [...world(), job({ uri: RUN_V2, oauth: {}, method: 'GET' })] },
    { name: 'an API call the scanner does not know yields no result', assets: [...world(), job({ uri: `https://bigquery.googleapis.com/bigquery/v2/projects/${PROJECT}/jobs`, oauth: {} })] },
  ],
  invalid: [
    {
      name: 'no binding on the Cloud Run job or above',
      assets: [...world(), job({ uri: RUN_V2, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: [SA, 'run.jobs.run', 'jobs/etl'] }],
    },
    {
      name: 'run.invoker on a service does not run a job: run.viewer on the job does not either',
      assets: [...world(runJobPolicy('etl', bind('roles/run.viewer', ME))), job({ uri: RUN_V1, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'overrides in the body need run.jobs.runWithOverrides, which run.invoker lacks',
      assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: RUN_V2, oauth: {}, body: OVERRIDES })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: ['run.jobs.runWithOverrides'] }],
    },
    {
      name: 'an unreadable body: the overrides permission is unconfirmed',
      assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', ME))), job({ uri: RUN_V2, oauth: {}, body: { base64: Buffer.from('not json').toString('base64') } })],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['body could not be read'] }],
    },
    {
      name: 'a DISABLED custom role grants nothing',
      assets: [...world(customRole(ROLE, ['run.jobs.run'], { stage: 'DISABLED' }), runJobPolicy('etl', bind(ROLE, ME))), job({ uri: RUN_V2, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'only a group could grant it: unverifiable',
      assets: [...world(runJobPolicy('etl', bind('roles/run.invoker', 'group:ops@example.com'))), job({ uri: RUN_V2, oauth: {} })],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['group ops@example.com'] }],
    },
    {
      name: 'folder policy missing: coverage gap',
      assets: [...without(world(), (r) => r.iamPolicy !== undefined && r.name.endsWith(`folders/${FOLDER}`)), job({ uri: RUN_V2, oauth: {} })],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['coverage gap'] }],
    },
    {
      name: 'a Cloud Run job the inventory does not hold',
      assets: [...world(), job({ uri: RUN_V2.replace('/etl:', '/other:'), oauth: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['jobs/other'] }],
    },
    {
      name: 'workflow without workflows.executions.create',
      assets: [...world(workflowPolicy('wf', bind('roles/workflows.viewer', ME))), job({ uri: WORKFLOW, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: ['workflows.executions.create', 'workflows/wf'] }],
    },
    {
      name: 'run.invoker does not start a workflow',
      assets: [...world(projectGrant(bind('roles/run.invoker', ME))), job({ uri: WORKFLOW, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'a workflow the inventory does not hold',
      assets: [...baseWorld(), job({ uri: WORKFLOW, oauth: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['workflow'] }],
    },
  ],
});
