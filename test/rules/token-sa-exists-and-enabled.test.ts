import rule from '../../rules/token-sa-exists-and-enabled.js';
import { ruleTester } from '../support/rule-tester.js';
import { NUMBER, PROJECT, RUN_URL, SA, baseWorld, job, serviceAccount, withRecords, without } from '../support/builders.js';

const COMPUTE_SA = `${NUMBER}-compute@developer.gserviceaccount.com`;
const APP_ENGINE_SA = `${PROJECT}@appspot.gserviceaccount.com`;
const RUN_JOB = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/etl:run`;
const isServiceAccount = (r: { assetType: string }): boolean => r.assetType === 'iam.googleapis.com/ServiceAccount';

ruleTester(rule, {
  valid: [
    { name: 'OIDC account exists and is enabled', assets: [...baseWorld(), job()] },
    { name: 'OAuth account exists and is enabled', assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: {} })] },
    { name: 'email in the job differs in case', assets: [...baseWorld(), job({ oidc: { sa: SA.toUpperCase(), audience: RUN_URL } })] },
    {
      name: 'default compute account resolved through the project number exists',
      assets: [...baseWorld(), serviceAccount(COMPUTE_SA), job({ oidc: { sa: COMPUTE_SA, audience: RUN_URL } })],
    },
    {
      name: 'App Engine default account exists',
      assets: [...baseWorld(), serviceAccount(APP_ENGINE_SA), job({ oidc: { sa: APP_ENGINE_SA, audience: RUN_URL } })],
    },
    { name: 'job without a token yields no result', assets: [...baseWorld(), job({ oidc: false })] },
    { name: 'Pub/Sub target yields no result', assets: [...baseWorld(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick` })] },
  ],
  invalid: [
    {
      name: 'OIDC account is disabled',
      assets: [...withRecords(baseWorld(), serviceAccount(SA, { disabled: true })), job()],
      expect: [{ status: 'fail', messageId: 'disabled', severity: 'high', messageIncludes: [SA] }],
    },
    {
      name: 'OAuth account is disabled',
      assets: [...withRecords(baseWorld(), serviceAccount(SA, { disabled: true })), job({ uri: RUN_JOB, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'disabled', severity: 'high' }],
    },
    {
      name: 'account missing from a project whose accounts the inventory lists',
      assets: [...baseWorld(), job({ oidc: { sa: `ghost@${PROJECT}.iam.gserviceaccount.com`, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'missing', severity: 'high', messageIncludes: [`ghost@${PROJECT}`, `project ${PROJECT}`] }],
    },
    {
      name: 'default compute account missing: its project is found through the project number',
      assets: [...baseWorld(), job({ oidc: { sa: COMPUTE_SA, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'missing', severity: 'high', messageIncludes: [COMPUTE_SA, `project ${PROJECT}`] }],
    },
    {
      name: 'App Engine default account missing from a covered project',
      assets: [...baseWorld(), job({ oidc: { sa: APP_ENGINE_SA, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'missing', severity: 'high' }],
    },
    {
      name: 'account of a project whose accounts are not in the inventory: unverifiable',
      assets: [...baseWorld(), job({ oidc: { sa: 'runner@other-project.iam.gserviceaccount.com', audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'notCovered', severity: 'low', messageIncludes: ['other-project'] }],
    },
    {
      name: 'no service account of the job’s own project in the inventory: unverifiable, not missing',
      assets: [...without(baseWorld(), isServiceAccount), job()],
      expect: [{ status: 'unverifiable', messageId: 'notCovered', severity: 'low' }],
    },
    {
      name: 'default compute account of a project not in the inventory: unverifiable',
      assets: [...baseWorld(), job({ oidc: { sa: '999999999999-compute@developer.gserviceaccount.com', audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'notCovered', severity: 'low', messageIncludes: ['its project'] }],
    },
    {
      name: 'Google-managed account: unverifiable',
      assets: [...baseWorld(), job({ oidc: { sa: `service-${NUMBER}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`, audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'notCovered', severity: 'low' }],
    },
  ],
});
