import rule from '../../rules/job-uri-has-no-credential.js';
import { ruleTester } from '../support/rule-tester.js';
import { RUN_URL, baseWorld, job } from '../support/builders.js';

ruleTester(rule, {
  valid: [
    { name: 'a Cloud Run URL with a path', assets: [...baseWorld(), job({ uri: `${RUN_URL}/run` })] },
    { name: 'innocuous query parameters', assets: [...baseWorld(), job({ uri: `${RUN_URL}/run?region=eu&keyword=x&monkey=1&tokens_per_minute=5` })] },
    { name: 'an empty token parameter holds nothing', assets: [...baseWorld(), job({ uri: `${RUN_URL}/run?token=` })] },
    { name: 'a Pub/Sub job has no URI', assets: [...baseWorld(), job({ pubsubTopic: 'projects/p/topics/t' })] },
  ],
  invalid: [
    {
      name: 'user and password in the user info',
      assets: [...baseWorld(), job({ uri: 'https://deploy:hunter2@svc-abc-uc.a.run.app/run' })],
      expect: [{ status: 'fail', messageId: 'credential', severity: 'high', messageIncludes: ['https://REDACTED@svc-abc-uc.a.run.app/run', 'user info'] }],
    },
    {
      name: 'a token in the query',
      assets: [...baseWorld(), job({ uri: `${RUN_URL}/run?token=s3cr3t&region=eu` })],
      expect: [{ status: 'fail', messageId: 'credential', messageIncludes: ['token=REDACTED&region=eu', 'query parameter token'] }],
    },
    {
      name: 'an API key',
      assets: [...baseWorld(), job({ uri: 'https://example.com/hook?key=AIzaSyA-1234567890abcdefghijklmnopqrstu' })],
      expect: [{ status: 'fail', messageId: 'credential', messageIncludes: ['key=REDACTED'] }],
    },
    {
      name: 'a signed URL (sig, X-Goog-Signature)',
      assets: [...baseWorld(), job({ uri: 'https://storage.googleapis.com/b/o?X-Goog-Credential=a%2Fb&X-Goog-Signature=abcd&sig=ef' })],
      expect: [{ status: 'fail', messageId: 'credential', messageIncludes: ['X-Goog-Signature=REDACTED', 'sig=REDACTED'] }],
    },
    {
      name: 'an access token in the fragment, parameter name in upper case',
      assets: [...baseWorld(), job({ uri: 'https://example.com/cb#ACCESS_TOKEN=abc' })],
      expect: [{ status: 'fail', messageId: 'credential', messageIncludes: ['fragment parameter ACCESS_TOKEN'] }],
    },
  ],
});
