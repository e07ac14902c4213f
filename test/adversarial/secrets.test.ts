import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsInUrl, mayHoldSecret, redactSecretsIn, redactText, redactUrl, redactUrlUnguarded } from '../../src/text/redact-secrets.js';
import { runCli } from '../support/cli-harness.js';
import { jobRecord, scratch } from './hostile-inventory.js';

/**
 * Issue: credentials in a job URI (user:pass@, ?token=, ?key=, ?sig=) and bearer tokens in the
 * last attempt's status message were copied into findings, Pub/Sub, the spool, the table and the
 * logs. Each sink now gets them redacted (the Pub/Sub and spool side: test/adversarial/stop-during-outage.test.ts).
 */

const secret = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%'), minLength: 12, maxLength: 40 }).map((s) => `S3${s}`);
const paramName = fc.constantFrom('token', 'key', 'sig', 'signature', 'access_token', 'X-Goog-Signature', 'X-Amz-Security-Token', 'client_secret', 'api-key', 'password', 'code');

describe('redaction', () => {
  it('removes user info and credential parameters from any URL, keeping scheme, host, path and the other parameters', () => {
    fc.assert(
      fc.property(secret, secret, paramName, (user, value, name) => {
        const url = `https://${user}:${value}@svc-abc-uc.a.run.app/v1/run?region=eu&${name}=${value}#${name}=${value}`;
        const out = redactUrl(url);
        expect(out).not.toContain(value);
        expect(out).not.toContain(user);
        expect(out).toBe(`https://REDACTED@svc-abc-uc.a.run.app/v1/run?region=eu&${name}=REDACTED#${name}=REDACTED`);
        expect(URL.parse(out)?.hostname).toBe('svc-abc-uc.a.run.app');
        expect(credentialsInUrl(url)).toContain('user info');
      }),
    );
  });

  it('removes bearer tokens, JWTs, OAuth tokens and URL credentials from free text', () => {
    fc.assert(
      fc.property(secret, (value) => {
        const text = `401: Authorization: Bearer ${value} rejected; retry https://u:${value}@h.example/x?sig=${value} (access_token=${value})`;
        expect(redactText(text)).not.toContain(value);
      }),
    );
    expect(redactText('token ya29.a0AfH6SMBx-secret and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl')).toBe('token [REDACTED] and [REDACTED]');
    expect(redactText('HTTP status code=403 at https://h.example/a?b=c')).toBe('HTTP status code=403 at https://h.example/a?b=c');
  });

  it('skips only text the full redaction would leave as it is', () => {
    // Pieces of what redaction looks for, mixed with the flags and HCL of fix commands.
    const piece = fc.constantFrom(
      '=', ' = ', '://', '@', '?', '#', '&', ' ', '\n', '"', '%41', '+', 'x', 'Z', '9', '_', '-', '.',
      'token', 'TOKEN', 'Key', 'apikey', 'sig', 'Signature', 'secret', 'pass', 'PassWD', 'pwd', 'auth', 'Authorization',
      'code', 'credential', 'Credentials', 'jwt', 'session', 'SessionId', 'session_id', 'private_key', 'x-goog-signature',
      'Bearer ', 'BASIC ', 'bEaReR', 'ya29.', '1//', 'eyJ', 'eyj', 'AIza', 'aiza', 'PRIVATE KEY', '-----BEGIN ', '-----END ',
      'https://', 'svc-abc-uc.a.run.app', '--oidc-token-audience=', '--project=', 'audience', 'google_application_credentials',
      'K', 'ſ', 'İ', '\u0001', '\u00a0', '\t', ':', ': ', '"', "'", '[]', '[', ']', ';', '%20', 'X-Api-Key', '{', '}',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }).map((p) => p.join('')), (text) => {
        expect(redactText(text)).toBe(redactSecretsIn(text));
        if (!mayHoldSecret(text)) expect(redactSecretsIn(text)).toBe(text);
        const url = `https://${text}`;
        expect(redactUrl(url)).toBe(redactUrlUnguarded(url));
      }),
      { numRuns: 5000 },
    );
    // Fix commands and Terraform, the bulk of what a scan writes, skip the patterns.
    expect(mayHoldSecret('gcloud scheduler jobs update http j --location=eu --project=p --oidc-service-account-email=a@p.iam.gserviceaccount.com --oidc-token-audience=https://svc-abc-uc.a.run.app')).toBe(false);
    expect(mayHoldSecret('  http_target {\n    uri = "https://svc-abc-uc.a.run.app/run"\n')).toBe(false);
    expect(mayHoldSecret('--api-key=abc')).toBe(true);
    // A query with plain parameter names is the `=` check's: no URL pass for `?batch=4`.
    expect(mayHoldSecret('uri = "https://svc-abc-uc.a.run.app/run?batch=4&region=eu"')).toBe(false);
    expect(mayHoldSecret('https://svc-abc-uc.a.run.app/run?batch=4&tok%65n=x')).toBe(true);
    expect(redactUrl('https://svc-abc-uc.a.run.app/run?batch=4&tok%65n=x')).toBe('https://svc-abc-uc.a.run.app/run?batch=4&tok%65n=REDACTED');
    // Lower-casing makes a Kelvin sign a k: a name spelt with one is still a secret's.
    expect(redactUrl('https://h.example/p?a=1&to\u212Aen=x')).toBe('https://h.example/p?a=1&to\u212Aen=REDACTED');
    expect(redactText('see https://h.example/p?a=1&api_\u212Aey=x')).toBe('see https://h.example/p?a=1&api_\u212Aey=REDACTED');
  });

  it('removes a token after a scheme in a parameter, a header or a quoted JSON value', () => {
    fc.assert(
      fc.property(secret, (value) => {
        for (const text of [
          `Authorization=Bearer ${value}`,
          `Authorization=Bearer%20${value}`,
          `{"access_token":"${value}"}`,
          `{'refresh_token': '${value}'}`,
          `Authorization: ${value}`,
          `Proxy-Authorization: Basic ${value}`,
          `X-Api-Key: ${value}`,
          `x-goog-api-key:${value}`,
          `retry with Bearer%20${value}`,
        ]) {
          expect(redactText(text), text).not.toContain(value);
        }
      }),
    );
    // Prose and summary lines are not headers.
    expect(redactText('Job calls it without any token: the target answers 401/403.')).toBe('Job calls it without any token: the target answers 401/403.');
    expect(redactText('job-uri-has-no-credential: 4 fail, 0 unverifiable')).toBe('job-uri-has-no-credential: 4 fail, 0 unverifiable');
  });

  it('finds and removes credentials in path parameters, bracketed names, encoded URLs and token-shaped path segments', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl';
    const cases: [string, string, string][] = [
      ['https://svc-abc-uc.a.run.app/run;token=S3cretA1/x', 'https://svc-abc-uc.a.run.app/run;token=REDACTED/x', 'path parameter token'],
      ['https://svc-abc-uc.a.run.app/run?token[]=S3cretA2', 'https://svc-abc-uc.a.run.app/run?token[]=REDACTED', 'query parameter token[]'],
      ['https://svc-abc-uc.a.run.app/run?next=https%3A%2F%2Fdeploy%3AS3cretA3%40h.example%2F', 'https://svc-abc-uc.a.run.app/run?next=REDACTED', 'query parameter next (a URL with user info)'],
      [`https://svc-abc-uc.a.run.app/hook/${jwt}/run`, 'https://svc-abc-uc.a.run.app/hook/REDACTED/run', 'a token-shaped string'],
    ];
    for (const [url, redacted, where] of cases) {
      expect(redactUrl(url)).toBe(redacted);
      expect(credentialsInUrl(url)).toContain(where);
      const inText = redactText(`calling ${url} failed`);
      expect(inText).not.toMatch(/S3cret|eyJ/);
      expect(inText).toContain('svc-abc-uc.a.run.app');
    }
    expect(credentialsInUrl('https://svc-abc-uc.a.run.app/run;v=2?a[]=1')).toEqual([]);
  });

  it('does not cut a password that holds an @', () => {
    expect(redactUrl('https://u:p@ss@h.example/')).toBe('https://REDACTED@h.example/');
  });
});

describe('a scan of jobs with credentials in their URI and status', () => {
  const work = scratch('secrets');
  afterAll(() => work.remove());
  const SECRETS = ['hunter2pass', 'Tok3nValue99', 'AIzaSyA-1234567890abcdefghijklmnopqrstu', 'SigValue777', 'BearerSecretXYZ123'];
  const input = work.file(
    'jobs.ndjson',
    [
      jobRecord('userinfo', { uri: 'https://deploy:hunter2pass@svc-abc-uc.a.run.app/run' }),
      jobRecord('token', { uri: 'https://svc-abc-uc.a.run.app/run?token=Tok3nValue99&region=eu' }),
      jobRecord('key', { uri: 'https://hooks.example.com/x?key=AIzaSyA-1234567890abcdefghijklmnopqrstu' }),
      jobRecord('sig', { uri: 'https://storage.example.com/o?sv=1&sig=SigValue777' }),
      jobRecord('status', { uri: 'https://svc-abc-uc.a.run.app/run', oidcToken: { serviceAccountEmail: 'a@acme-prod.iam.gserviceaccount.com' } }, { status: { code: 16, message: 'Request had invalid credentials: Bearer BearerSecretXYZ123' } }),
    ].join('\n') + '\n',
  );

  it.each(['jsonl', 'json', 'table'])('writes no secret in --format %s, nor in the logs, and fails the new rule', async (format) => {
    const r = await runCli(['scan', '--input', input, '--format', format, '--log-level', 'debug']);
    for (const s of SECRETS) {
      expect(r.stdout, `${s} in ${format} output`).not.toContain(s);
      expect(r.stderr, `${s} in logs`).not.toContain(s);
    }
    expect(r.stdout).toContain('svc-abc-uc.a.run.app');
    expect(r.stderr).toMatch(/job-uri-has-no-credential: 4 fail/);
  });

  it('keeps the target identifiable in the finding', async () => {
    const r = await runCli(['scan', '--input', input, '--format', 'jsonl']);
    const uris = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { job: { uri: string } }).job.uri);
    expect(uris).toContain('https://REDACTED@svc-abc-uc.a.run.app/run');
    expect(uris).toContain('https://svc-abc-uc.a.run.app/run?token=REDACTED&region=eu');
  });
});
