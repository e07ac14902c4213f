import rule from '../../rules/token-sa-in-job-project.js';
import { ruleTester } from '../support/rule-tester.js';
import { NUMBER, PROJECT, RUN_URL, baseWorld, job, project, serviceAccount, without } from '../support/builders.js';

const OTHER = 'proj-beta';
const OTHER_NUMBER = '400000000004';
const OTHER_SA = `invoker@${OTHER}.iam.gserviceaccount.com`;
const RUN_JOB = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/etl:run`;

ruleTester(rule, {
  valid: [
    { name: 'OIDC account of the job’s project', assets: [...baseWorld(), job()] },
    { name: 'OAuth account of the job’s project', assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: {} })] },
    { name: 'default compute account of the job’s project, by number', assets: [...baseWorld(), job({ oidc: { sa: `${NUMBER}-compute@developer.gserviceaccount.com`, audience: RUN_URL } })] },
    { name: 'App Engine default account of the job’s project', assets: [...baseWorld(), job({ oidc: { sa: `${PROJECT}@appspot.gserviceaccount.com`, audience: RUN_URL } })] },
    { name: 'account not in the inventory, its email names the job’s project', assets: [...without(baseWorld(), (r) => r.assetType === 'iam.googleapis.com/ServiceAccount'), job()] },
    { name: 'job without a token yields no result', assets: [...baseWorld(), job({ oidc: false })] },
  ],
  invalid: [
    {
      name: 'OIDC account of another project',
      assets: [...baseWorld(), project(OTHER, OTHER_NUMBER), serviceAccount(OTHER_SA, { projectId: OTHER }), job({ oidc: { sa: OTHER_SA, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'otherProject', severity: 'medium', messageIncludes: [OTHER, PROJECT] }],
    },
    {
      name: 'OAuth account of another project the inventory does not hold (ids differ)',
      assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: { sa: OTHER_SA } })],
      expect: [{ status: 'fail', messageId: 'otherProject', severity: 'medium' }],
    },
    {
      name: 'default compute account of another project',
      assets: [...baseWorld(), project(OTHER, OTHER_NUMBER), job({ oidc: { sa: `${OTHER_NUMBER}-compute@developer.gserviceaccount.com`, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'otherProject', severity: 'medium', messageIncludes: [OTHER] }],
    },
    {
      name: 'default compute account of a project number the inventory does not know',
      assets: [...baseWorld(), job({ oidc: { sa: '999999999999-compute@developer.gserviceaccount.com', audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'projectUnknown', severity: 'low' }],
    },
    {
      name: 'a service agent lives in a Google project (gcp-sa-*), not the job’s',
      assets: [...baseWorld(), job({ oidc: { sa: `service-${NUMBER}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'otherProject', severity: 'medium' }],
    },
    {
      name: 'a Google-managed account whose project its email does not show',
      assets: [...baseWorld(), job({ oidc: { sa: `${NUMBER}@cloudservices.gserviceaccount.com`, audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'projectUnknown', severity: 'low' }],
    },
  ],
});
