import rule from '../../rules/oidc-audience-matches-target.js';
import { ruleTester } from '../support/rule-tester.js';
import {
  GEN1_URL, GEN2_RUN_URL, GEN2_URL, NUMBER, REGION, PROJECT, RUN_DETERMINISTIC_URL, RUN_URL, baseWorld, job, runName, runService, withRecords, without,
} from '../support/builders.js';

const GEN1_HOST = `https://${REGION}-${PROJECT}.cloudfunctions.net`;
const CUSTOM_AUDIENCE = 'https://api.example.com/jobs';
const withoutFn2Service = without(baseWorld(), (r) => r.name === runName('fn2'));

ruleTester(rule, {
  valid: [
    { name: 'Cloud Run: audience is the hash URL', assets: [...baseWorld(), job()] },
    { name: 'Cloud Run: audience is the deterministic URL', assets: [...baseWorld(), job({ oidc: { audience: RUN_DETERMINISTIC_URL } })] },
    {
      name: 'Cloud Run: calling the deterministic URL with the hash URL as audience',
      assets: [...baseWorld(), job({ uri: `${RUN_DETERMINISTIC_URL}/run`, oidc: { audience: RUN_URL } })],
    },
    { name: 'Cloud Run: a trailing slash does not matter', assets: [...baseWorld(), job({ oidc: { audience: `${RUN_URL}/` } })] },
    {
      name: 'Cloud Run: a trailing slash on the listed URL does not matter either',
      assets: [...withRecords(baseWorld(), runService({ urls: [`${RUN_URL}/`, RUN_DETERMINISTIC_URL] })), job({ oidc: { audience: RUN_URL } })],
    },
    { name: 'Cloud Run: host case does not matter', assets: [...baseWorld(), job({ oidc: { audience: RUN_URL.toUpperCase().replace('HTTPS', 'https') } })] },
    { name: 'Cloud Run: default audience is the bare service URL', assets: [...baseWorld(), job({ uri: RUN_URL, oidc: {} })] },
    { name: 'Cloud Run: default audience with a trailing slash', assets: [...baseWorld(), job({ uri: `${RUN_URL}/`, oidc: {} })] },
    {
      name: 'Cloud Run: custom audience (v2 customAudiences)',
      assets: [...withRecords(baseWorld(), runService({ customAudiences: [CUSTOM_AUDIENCE] })), job({ oidc: { audience: CUSTOM_AUDIENCE } })],
    },
    {
      name: 'Cloud Run: custom audience with a trailing slash',
      assets: [...withRecords(baseWorld(), runService({ customAudiences: [CUSTOM_AUDIENCE] })), job({ oidc: { audience: `${CUSTOM_AUDIENCE}/` } })],
    },
    {
      name: 'Cloud Run: custom audience that is not a URL',
      assets: [...withRecords(baseWorld(), runService({ customAudiences: ['billing-jobs'] })), job({ oidc: { audience: 'billing-jobs' } })],
    },
    {
      name: 'Cloud Run: custom audience (v1 Knative annotation)',
      assets: [...withRecords(baseWorld(), runService({ shape: 'v1', customAudiences: [CUSTOM_AUDIENCE] })), job({ oidc: { audience: CUSTOM_AUDIENCE } })],
    },
    {
      name: 'Cloud Run: the run.app URL stays accepted when custom audiences are set',
      assets: [...withRecords(baseWorld(), runService({ customAudiences: [CUSTOM_AUDIENCE] })), job()],
    },
    {
      name: 'Cloud Run v1 shape: deterministic URL from the urls annotation',
      assets: [...withRecords(baseWorld(), runService({ shape: 'v1' })), job({ oidc: { audience: RUN_DETERMINISTIC_URL } })],
    },
    {
      name: 'Cloud Run v1 shape with only status.url: the deterministic URL it is called on is accepted',
      assets: [
        ...withRecords(baseWorld(), { ...runService({ shape: 'v1', urls: [RUN_URL] }) }),
        job({ uri: `${RUN_DETERMINISTIC_URL}/run`, oidc: { audience: RUN_DETERMINISTIC_URL } }),
      ],
    },
    { name: 'gen1: audience is the full function URL', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } })] },
    { name: 'gen1: default audience is the full function URL', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: {} })] },
    { name: 'gen1: a trailing slash does not matter', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: `${GEN1_URL}/` } })] },
    {
      name: 'gen1: job URI adds a query, explicit audience is the function URL',
      assets: [...baseWorld(), job({ uri: `${GEN1_URL}?dry_run=false`, oidc: { audience: GEN1_URL } })],
    },
    { name: 'gen2 called on its Run URL with that URL as audience', assets: [...baseWorld(), job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_RUN_URL } })] },
    { name: 'gen2 called on its Run URL with the default audience', assets: [...baseWorld(), job({ uri: GEN2_RUN_URL, oidc: {} })] },
    {
      name: 'gen2 called on the deterministic URL of its Run service, which the service record does not list',
      assets: [...baseWorld(), job({ uri: `https://fn2-${NUMBER}.${REGION}.run.app`, oidc: {} })],
    },
    { name: 'gen2 called on its cloudfunctions.net URL with the Run URL as audience', assets: [...baseWorld(), job({ uri: GEN2_URL, oidc: { audience: GEN2_RUN_URL } })] },
    {
      name: 'gen2 whose Run service is missing: its Run URL (serviceConfig.uri) is still accepted',
      assets: [...withoutFn2Service, job({ uri: GEN2_URL, oidc: { audience: GEN2_RUN_URL } })],
    },
    { name: 'job without an OIDC token yields no result', assets: [...baseWorld(), job({ oidc: false })] },
    { name: 'Google API target is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://run.googleapis.com/v2/projects/p/locations/l/jobs/j:run', oidc: {} })] },
    { name: 'external target is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://hooks.example.com/x', oidc: { audience: 'anything' } })] },
  ],
  invalid: [
    {
      name: 'Cloud Run: a totally different audience fails high',
      assets: [...baseWorld(), job({ oidc: { audience: 'https://billing.example.com' } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high', messageIncludes: ['https://billing.example.com', RUN_URL, RUN_DETERMINISTIC_URL] }],
    },
    {
      name: 'Cloud Run: another service’s URL fails high',
      assets: [...baseWorld(), job({ oidc: { audience: GEN2_RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high' }],
    },
    {
      name: 'Cloud Run: a custom audience the service does not list fails high (v1 shape)',
      assets: [...withRecords(baseWorld(), runService({ shape: 'v1', customAudiences: ['https://other.example.com'] })), job({ oidc: { audience: CUSTOM_AUDIENCE } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high', messageIncludes: ['https://other.example.com'] }],
    },
    {
      name: 'Cloud Run: default audience is the URL plus a path (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: `${RUN_URL}/tasks/daily`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'runUrlWithPath', severity: 'low', messageIncludes: [`${RUN_URL}/tasks/daily`] }],
    },
    {
      name: 'Cloud Run: explicit audience is the deterministic URL plus a path (unconfirmed): low',
      assets: [...baseWorld(), job({ oidc: { audience: `${RUN_DETERMINISTIC_URL}/run` } })],
      expect: [{ status: 'unverifiable', messageId: 'runUrlWithPath', severity: 'low' }],
    },
    {
      name: 'Cloud Run: default audience with a query string (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: `${RUN_URL}?mode=full`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'runUrlWithPath', severity: 'low' }],
    },
    {
      name: 'Cloud Run service with no URL in the inventory: cannot check',
      assets: [
        ...withRecords(baseWorld(), runService({ urls: [] })),
        job({ uri: `${RUN_DETERMINISTIC_URL}/run`, oidc: { audience: RUN_DETERMINISTIC_URL } }),
      ],
      expect: [{ status: 'unverifiable', messageId: 'runUrlsUnknown', severity: 'low' }],
    },
    {
      name: 'gen1: host-only audience fails high',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_HOST } })],
      expect: [{ status: 'fail', messageId: 'hostOnly', severity: 'high', messageIncludes: [GEN1_URL] }],
    },
    {
      name: 'gen1: host-only audience with a trailing slash fails high',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: `${GEN1_HOST}/` } })],
      expect: [{ status: 'fail', messageId: 'hostOnly', severity: 'high' }],
    },
    {
      name: 'gen1: default audience carrying a query string fails high',
      assets: [...baseWorld(), job({ uri: `${GEN1_URL}?dry_run=false`, oidc: {} })],
      expect: [{ status: 'fail', messageId: 'queryInAudience', severity: 'high', messageIncludes: ['default (job URI)', '?dry_run=false'] }],
    },
    {
      name: 'gen1: configured audience carrying a query string fails high',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: `${GEN1_URL}?x=1` } })],
      expect: [{ status: 'fail', messageId: 'queryInAudience', severity: 'high', messageIncludes: ['configured'] }],
    },
    {
      name: 'gen1: default audience with an extra path (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: `${GEN1_URL}/sub`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'functionUrlWithPath', severity: 'low' }],
    },
    {
      name: 'gen1: a Cloud Run URL as audience fails high',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high' }],
    },
    {
      name: 'gen1: another function’s URL on the same host fails high',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: `${GEN1_HOST}/other` } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high' }],
    },
    {
      name: 'gen2 on its cloudfunctions.net URL with that URL as audience (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: GEN2_URL, oidc: { audience: GEN2_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'gen2CloudfunctionsUrl', severity: 'low', messageIncludes: [GEN2_RUN_URL] }],
    },
    {
      name: 'gen2 on its cloudfunctions.net URL with the default audience (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: GEN2_URL, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'gen2CloudfunctionsUrl', severity: 'low' }],
    },
    {
      name: 'gen2 on its cloudfunctions.net URL, default audience with a query (unconfirmed): low, never high',
      assets: [...baseWorld(), job({ uri: `${GEN2_URL}?full=1`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'functionUrlWithPath', severity: 'low' }],
    },
    {
      name: 'gen2 on its Run URL with its cloudfunctions.net URL as audience (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'gen2CloudfunctionsUrl', severity: 'low' }],
    },
    {
      name: 'gen2 on its Run URL with a totally different audience fails high',
      assets: [...baseWorld(), job({ uri: GEN2_RUN_URL, oidc: { audience: 'https://example.com' } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high', messageIncludes: ['functions/fn2'] }],
    },
    {
      name: 'gen2 on its Run URL, audience is the Run URL plus a path (unconfirmed): low',
      assets: [...baseWorld(), job({ uri: `${GEN2_RUN_URL}/sync`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'runUrlWithPath', severity: 'low' }],
    },
    {
      name: 'gen2 whose Run service is missing from the inventory: unverifiable',
      assets: [...withoutFn2Service, job({ uri: GEN2_URL, oidc: { audience: 'https://example.com' } })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['functions/fn2'] }],
    },
    {
      name: 'unknown run.app target: unverifiable',
      assets: [...baseWorld(), job({ uri: 'https://ghost-zz9yy8-uc.a.run.app/', oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['ghost-zz9yy8-uc.a.run.app'] }],
    },
    {
      name: 'unknown cloudfunctions.net target: unverifiable',
      assets: [...baseWorld(), job({ uri: 'https://europe-west1-other-proj.cloudfunctions.net/x', oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low' }],
    },
  ],
});
