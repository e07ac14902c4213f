import rule from '../../rules/http-target-uses-oidc.js';
import { ruleTester } from '../support/rule-tester.js';
import {
  GEN1_URL, GEN2_URL, RUN_URL, baseWorld, bind, functionPolicy, job, runPolicy, runService, withRecords,
} from '../support/builders.js';

ruleTester(rule, {
  valid: [
    { name: 'Cloud Run target with an OIDC token', assets: [...baseWorld(), job()] },
    { name: 'gen1 function with an OIDC token', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } })] },
    { name: 'gen2 function by cloudfunctions.net URL with an OIDC token', assets: [...baseWorld(), job({ uri: GEN2_URL })] },
    { name: 'unknown run.app URL with an OIDC token', assets: [...baseWorld(), job({ uri: 'https://ghost-zz-uc.a.run.app' })] },
    { name: 'external webhook without a token is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://hooks.example.com/x', oidc: false })] },
    { name: 'Google API with OAuth is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://run.googleapis.com/v2/projects/p/locations/l/jobs/j:run', oauth: {} })] },
    { name: 'Pub/Sub target', assets: [...baseWorld(), job({ pubsubTopic: 'projects/proj-alpha/topics/t' })] },
  ],
  invalid: [
    { name: 'Cloud Run target without a token', assets: [...baseWorld(), job({ oidc: false })], expect: [{ status: 'fail', messageId: 'noToken', severity: 'high' }] },
    { name: 'Cloud Run target with an OAuth token', assets: [...baseWorld(), job({ oauth: {} })], expect: [{ status: 'fail', messageId: 'oauthToken', severity: 'high' }] },
    {
      name: 'paused job still fails',
      assets: [...baseWorld(), job({ oidc: false, state: 'PAUSED' })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'high', messageIncludes: ['PAUSED'] }],
    },
    { name: 'gen1 function without a token', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: false })], expect: [{ status: 'fail', messageId: 'noToken', severity: 'high' }] },
    { name: 'gen2 function with OAuth', assets: [...baseWorld(), job({ uri: GEN2_URL, oauth: {} })], expect: [{ status: 'fail', messageId: 'oauthToken', severity: 'high' }] },
    {
      name: 'run.app URL not in the inventory, no token (judged by URL)',
      assets: [...baseWorld(), job({ uri: 'https://ghost-zz-uc.a.run.app', oidc: false })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'high' }],
    },
    {
      name: 'cloudfunctions.net URL not in the inventory, no token',
      assets: [...baseWorld(), job({ uri: 'https://europe-west1-other.cloudfunctions.net/x', oidc: false })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'high' }],
    },
    {
      name: 'public target (allUsers invoker): lower severity',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', 'allUsers'))), job({ oidc: false })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'low', messageIncludes: ['allUsers'] }],
    },
    {
      name: 'allAuthenticatedUsers invoker is not public: a call without a token gets 401, high',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', 'allAuthenticatedUsers'))), job({ oidc: false })],
      expect: [{ status: 'fail', messageId: 'noToken', severity: 'high' }],
    },
    {
      name: 'allAuthenticatedUsers on a gen1 function is not public either',
      assets: [
        ...withRecords(baseWorld(), functionPolicy('fn1', bind('roles/cloudfunctions.invoker', 'allAuthenticatedUsers'))),
        job({ uri: GEN1_URL, oauth: {} }),
      ],
      expect: [{ status: 'fail', messageId: 'oauthToken', severity: 'high' }],
    },
    {
      name: 'public target (invoker IAM check disabled, v1 shape): lower severity',
      assets: [...withRecords(baseWorld(), runService({ shape: 'v1', invokerIamDisabled: true })), job({ oauth: {}, uri: RUN_URL })],
      expect: [{ status: 'fail', messageId: 'oauthToken', severity: 'low', messageIncludes: ['disabled'] }],
    },
  ],
});
