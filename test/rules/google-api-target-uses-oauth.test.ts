import rule from '../../rules/google-api-target-uses-oauth.js';
import { ruleTester } from '../support/rule-tester.js';
import { GEN1_URL, NUMBER, PROJECT, REGION, baseWorld, job } from '../support/builders.js';

const RUN_JOB_V2 = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/nightly-etl:run`;
const RUN_JOB_LEGACY = `https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${NUMBER}/jobs/nightly-etl:run`;
const WORKFLOWS = `https://workflowexecutions.googleapis.com/v1/projects/${PROJECT}/locations/${REGION}/workflows/wf/executions`;

ruleTester(rule, {
  valid: [
    { name: 'Run Admin API (v2) with an OAuth token', assets: [...baseWorld(), job({ uri: RUN_JOB_V2, oauth: {} })] },
    { name: 'regional Run Admin API (v1 namespaces) with an OAuth token', assets: [...baseWorld(), job({ uri: RUN_JOB_LEGACY, oauth: {} })] },
    { name: 'Workflows executions API with an OAuth token', assets: [...baseWorld(), job({ uri: WORKFLOWS, oauth: {} })] },
    { name: 'Cloud Run service with OIDC is not this rule’s business', assets: [...baseWorld(), job()] },
    { name: 'gen1 function without a token is not this rule’s business', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: false })] },
    { name: 'external host with OIDC is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://googleapis.com.evil.example/x', oidc: {} })] },
    { name: 'Pub/Sub target', assets: [...baseWorld(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick` })] },
  ],
  invalid: [
    {
      name: 'Run Admin API with an OIDC token (settings copied from a Cloud Run service)',
      assets: [...baseWorld(), job({ uri: RUN_JOB_V2, oidc: { audience: RUN_JOB_V2 } })],
      expect: [{ status: 'fail', messageId: 'oidcToGoogleApi', severity: 'high', messageIncludes: ['run.googleapis.com'] }],
    },
    {
      name: 'regional Run Admin API with an OIDC token and the default audience',
      assets: [...baseWorld(), job({ uri: RUN_JOB_LEGACY, oidc: {} })],
      expect: [{ status: 'fail', messageId: 'oidcToGoogleApi', severity: 'high', messageIncludes: [`${REGION}-run.googleapis.com`] }],
    },
    {
      name: 'Google API without any token',
      assets: [...baseWorld(), job({ uri: WORKFLOWS, oidc: false })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'medium', messageIncludes: ['workflowexecutions.googleapis.com'] }],
    },
    {
      name: 'paused job still judged',
      assets: [...baseWorld(), job({ uri: RUN_JOB_V2, oidc: {}, state: 'PAUSED' })],
      expect: [{ status: 'fail', messageId: 'oidcToGoogleApi', severity: 'high' }],
    },
  ],
});
