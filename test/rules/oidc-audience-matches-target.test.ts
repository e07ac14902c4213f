import rule from '../../rules/oidc-audience-matches-target.js';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { ruleTester } from '../support/rule-tester.js';
import {
  GEN1_URL, GEN2_RUN_URL, GEN2_URL, NUMBER, REGION, PROJECT, RUN_DETERMINISTIC_URL, RUN_URL, SA, baseWorld, bind, job, runName, runPolicy, runService, withRecords, without,
} from '../support/builders.js';

const GEN1_HOST = `https://${REGION}-${PROJECT}.cloudfunctions.net`;
const CUSTOM_AUDIENCE = 'https://api.example.com/jobs';
const withoutFn2Service = without(baseWorld(), (r) => r.name === runName('fn2'));
const RUN_HOST = new URL(RUN_URL).host;
const TAG_URL = `https://beta---${RUN_HOST}`;
const TAG_DETERMINISTIC_URL = `https://beta---svc-${NUMBER}.${REGION}.run.app`;
/** A service name long enough that `NAME-PROJECT_NUMBER` exceeds a 63-character DNS label. */
const LONG = 'reporting-aggregation-service-for-the-finance-team-x';
const LONG_HASH_URL = 'https://reporting-aggregation-service-for-the-finance-t-a1b2c3-uc.a.run.app';
const LONG_DETERMINISTIC_URL = `https://${LONG}-${NUMBER}.${REGION}.run.app`;
const hashOnly = (shape: 'v1' | 'v2'): AssetRecord => runService({ shape, urls: [RUN_URL], ...(shape === 'v1' ? { statusUrlOnly: true } : {}) });

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
    {
      name: 'Cloud Run v1 record with only status.url: the deterministic URL as audience is accepted',
      assets: [...withRecords(baseWorld(), hashOnly('v1')), job({ oidc: { audience: RUN_DETERMINISTIC_URL } })],
    },
    {
      name: 'Cloud Run v2 record listing only the hash URL: the deterministic URL as audience is accepted',
      assets: [...withRecords(baseWorld(), hashOnly('v2')), job({ oidc: { audience: `${RUN_DETERMINISTIC_URL}/` } })],
    },
    {
      name: 'Cloud Run record with only the hash URL, job calls the deterministic URL with the default audience',
      assets: [...withRecords(baseWorld(), hashOnly('v1')), job({ uri: RUN_DETERMINISTIC_URL, oidc: {} })],
    },
    {
      name: 'Cloud Run: a job calling a tag URL with the service URL as audience',
      assets: [...withRecords(baseWorld(), runService({ tagUrls: [TAG_URL] })), job({ uri: `${TAG_URL}/run`, oidc: { audience: RUN_URL } })],
    },
    {
      name: 'Cloud Run: a job calling an unlisted deterministic tag URL with the deterministic URL as audience',
      assets: [...baseWorld(), job({ uri: `${TAG_DETERMINISTIC_URL}/run`, oidc: { audience: RUN_DETERMINISTIC_URL } })],
    },
    { name: 'gen1: audience is the exact function URL while the job URI adds a path', assets: [...baseWorld(), job({ uri: `${GEN1_URL}/sub`, oidc: { audience: GEN1_URL } })] },
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
      name: 'Cloud Run: upper-case host is not the documented spelling: unverifiable',
      assets: [...baseWorld(), job({ oidc: { audience: RUN_URL.toUpperCase().replace('HTTPS', 'https') } })],
      expect: [{ status: 'unverifiable', messageId: 'undocumentedSpelling', severity: 'medium' }],
    },
    {
      name: 'Cloud Run: an explicit :443 is not the documented spelling: unverifiable',
      assets: [...baseWorld(), job({ oidc: { audience: `https://${RUN_HOST}:443` } })],
      expect: [{ status: 'unverifiable', messageId: 'undocumentedSpelling', severity: 'medium', messageIncludes: [':443'] }],
    },
    {
      name: 'Cloud Run: an http:// audience is never the service URL',
      assets: [...baseWorld(), job({ oidc: { audience: RUN_URL.replace('https:', 'http:') } })],
      expect: [{ status: 'fail', messageId: 'httpAudience', severity: 'high' }],
    },
    {
      name: 'Cloud Run: an http:// job URI as the default audience is never the service URL',
      assets: [...baseWorld(), job({ uri: RUN_URL.replace('https:', 'http:'), oidc: {} })],
      expect: [{ status: 'fail', messageId: 'httpAudience', severity: 'high' }],
    },
    {
      name: 'Cloud Run: an http:// job URI with the right audience does not pass',
      assets: [...baseWorld(), job({ uri: `${RUN_URL.replace('https:', 'http:')}/run`, oidc: { audience: RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'httpUri', severity: 'medium' }],
    },
    {
      name: 'Cloud Run: a listed tag URL as audience (undocumented): low',
      assets: [...withRecords(baseWorld(), runService({ tagUrls: [TAG_URL] })), job({ oidc: { audience: TAG_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'tagUrlAudience', severity: 'low', messageIncludes: ['services/svc'] }],
    },
    {
      name: 'Cloud Run: a job calling a tag URL (v1 status.traffic) with the default audience: low',
      assets: [...withRecords(baseWorld(), runService({ shape: 'v1', tagUrls: [TAG_URL] })), job({ uri: `${TAG_URL}/run`, oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'tagUrlAudience', severity: 'low' }],
    },
    {
      name: 'Cloud Run: an unlisted tag URL of the service, deterministic form, as audience: low',
      assets: [...baseWorld(), job({ oidc: { audience: TAG_DETERMINISTIC_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'tagUrlAudience', severity: 'low' }],
    },
    {
      name: 'Cloud Run: deterministic URL whose DNS label exceeds 63 characters is not assigned',
      assets: [
        ...withRecords(baseWorld(), runService({ name: LONG, urls: [LONG_HASH_URL] }), runPolicy(LONG, bind('roles/run.invoker', `serviceAccount:${SA}`))),
        job({ uri: LONG_HASH_URL, oidc: { audience: LONG_DETERMINISTIC_URL } }),
      ],
      expect: [{ status: 'fail', messageId: 'deterministicNotAssigned', severity: 'high', messageIncludes: ['longer than the 63'] }],
    },
    {
      name: 'Cloud Run: deterministic URL of a service whose default URL is disabled (v2)',
      assets: [...withRecords(baseWorld(), runService({ urls: [RUN_URL], defaultUriDisabled: true })), job({ uri: RUN_URL, oidc: { audience: RUN_DETERMINISTIC_URL } })],
      expect: [{ status: 'fail', messageId: 'deterministicNotAssigned', severity: 'high', messageIncludes: ['defaultUriDisabled'] }],
    },
    {
      name: 'Cloud Run: deterministic URL of a service whose default URL is disabled (v1 annotation)',
      assets: [
        ...withRecords(baseWorld(), runService({ shape: 'v1', urls: [RUN_URL], statusUrlOnly: true, defaultUriDisabled: true })),
        job({ uri: RUN_URL, oidc: { audience: RUN_DETERMINISTIC_URL } }),
      ],
      expect: [{ status: 'fail', messageId: 'deterministicNotAssigned', severity: 'high' }],
    },
    {
      name: 'Cloud Run: deterministic URL form when the project number is not in the inventory: unverifiable, never a fail',
      assets: [...without(withRecords(baseWorld(), hashOnly('v1')), (r) => r.assetType === 'cloudresourcemanager.googleapis.com/Project'), job({ oidc: { audience: RUN_DETERMINISTIC_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'deterministicUnknown', severity: 'low', messageIncludes: ['project number'] }],
    },
    {
      name: 'Cloud Run: deterministic URL of another project number fails',
      assets: [...withRecords(baseWorld(), hashOnly('v2')), job({ oidc: { audience: `https://svc-999999999999.${REGION}.run.app` } })],
      expect: [{ status: 'fail', messageId: 'mismatch', severity: 'high' }],
    },
    {
      name: 'gen1: a trailing slash is not its exact URL: unverifiable, low',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: `${GEN1_URL}/` } })],
      expect: [{ status: 'unverifiable', messageId: 'undocumentedSpelling', severity: 'low' }],
    },
    {
      name: 'gen1: upper-case host is not its exact URL: unverifiable',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL.replace(`${REGION}-${PROJECT}`, `${REGION}-${PROJECT}`.toUpperCase()) } })],
      expect: [{ status: 'unverifiable', messageId: 'undocumentedSpelling', severity: 'medium' }],
    },
    {
      name: 'gen1: an http:// audience fails',
      assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL.replace('https:', 'http:') } })],
      expect: [{ status: 'fail', messageId: 'httpAudience', severity: 'high' }],
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
