import rule from '../../rules/token-sa-not-default-compute.js';
import { ruleTester } from '../support/rule-tester.js';
import { NUMBER, PROJECT, RUN_URL, baseWorld, job, serviceAccount } from '../support/builders.js';

const COMPUTE_SA = `${NUMBER}-compute@developer.gserviceaccount.com`;
const RUN_JOB = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/etl:run`;

ruleTester(rule, {
  valid: [
    { name: 'dedicated account in the OIDC token', assets: [...baseWorld(), job()] },
    { name: 'dedicated account in the OAuth token', assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: {} })] },
    {
      name: 'an account whose name only resembles the default one',
      assets: [...baseWorld(), job({ oidc: { sa: `compute-${NUMBER}@${PROJECT}.iam.gserviceaccount.com`, audience: RUN_URL } })],
    },
    { name: 'job without a token yields no result', assets: [...baseWorld(), job({ oidc: false })] },
  ],
  invalid: [
    {
      name: 'default compute account in the OIDC token',
      assets: [...baseWorld(), serviceAccount(COMPUTE_SA), job({ oidc: { sa: COMPUTE_SA, audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'defaultCompute', severity: 'medium', messageIncludes: [COMPUTE_SA] }],
    },
    {
      name: 'default compute account in the OAuth token',
      assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: { sa: COMPUTE_SA } })],
      expect: [{ status: 'fail', messageId: 'defaultCompute', severity: 'medium' }],
    },
    {
      name: 'default compute account written in upper case',
      assets: [...baseWorld(), job({ oidc: { sa: COMPUTE_SA.toUpperCase(), audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'defaultCompute', severity: 'medium' }],
    },
    {
      name: 'default compute account of a project not in the inventory',
      assets: [...baseWorld(), job({ oidc: { sa: '999999999999-compute@developer.gserviceaccount.com', audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'defaultCompute', severity: 'medium' }],
    },
  ],
});
