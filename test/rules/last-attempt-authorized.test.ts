import rule from '../../rules/last-attempt-authorized.js';
import { ruleTester } from '../support/rule-tester.js';
import { PROJECT, baseWorld, job } from '../support/builders.js';

ruleTester(rule, {
  valid: [
    { name: 'no status (never ran, or the inventory does not carry it)', assets: [...baseWorld(), job()] },
    { name: 'OK as a number', assets: [...baseWorld(), job({ status: { code: 0 } })] },
    { name: 'OK as a string', assets: [...baseWorld(), job({ status: { code: 'OK' } })] },
    { name: 'INTERNAL as a number', assets: [...baseWorld(), job({ status: { code: 13, message: 'HTTP 500' } })] },
    { name: 'INTERNAL as a string', assets: [...baseWorld(), job({ status: { code: 'INTERNAL' } })] },
    { name: 'NOT_FOUND (a 404 is not an auth failure)', assets: [...baseWorld(), job({ status: { code: 5 } })] },
    { name: 'DEADLINE_EXCEEDED', assets: [...baseWorld(), job({ status: { code: 'DEADLINE_EXCEEDED' } })] },
    { name: 'unknown code name', assets: [...baseWorld(), job({ status: { code: 'SOMETHING_NEW' } })] },
  ],
  invalid: [
    {
      name: 'UNAUTHENTICATED as a number',
      assets: [...baseWorld(), job({ status: { code: 16 } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high', messageIncludes: ['UNAUTHENTICATED'] }],
    },
    {
      name: 'UNAUTHENTICATED as a string, with a message',
      assets: [...baseWorld(), job({ status: { code: 'UNAUTHENTICATED', message: 'HTTP 401' } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high', messageIncludes: ['UNAUTHENTICATED ("HTTP 401")'] }],
    },
    {
      name: 'UNAUTHENTICATED as a numeric string',
      assets: [...baseWorld(), job({ status: { code: '16' } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high', messageIncludes: ['UNAUTHENTICATED'] }],
    },
    {
      name: 'PERMISSION_DENIED as a number',
      assets: [...baseWorld(), job({ status: { code: 7, message: 'PERMISSION_DENIED' } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high', messageIncludes: ['PERMISSION_DENIED'] }],
    },
    {
      name: 'PERMISSION_DENIED as a string',
      assets: [...baseWorld(), job({ status: { code: 'PERMISSION_DENIED' } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high', messageIncludes: ['PERMISSION_DENIED'] }],
    },
    {
      name: 'paused job whose last attempt was refused',
      assets: [...baseWorld(), job({ state: 'PAUSED', status: { code: 7 } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high' }],
    },
    {
      name: 'job without a token refused as UNAUTHENTICATED (joined to its config finding only by the engine)',
      assets: [...baseWorld(), job({ oidc: false, status: { code: 16 } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high' }],
    },
    {
      name: 'Pub/Sub job refused as PERMISSION_DENIED',
      assets: [...baseWorld(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick`, status: { code: 7 } })],
      expect: [{ status: 'fail', messageId: 'authFailed', severity: 'high' }],
    },
  ],
});
