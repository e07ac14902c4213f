import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHttpUrl } from '../../src/model/url.js';

function viaUrl(text: string): unknown {
  try {
    const u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return { protocol: u.protocol, host: u.host, hostname: u.hostname, pathname: u.pathname, search: u.search, hash: u.hash };
  } catch {
    return undefined;
  }
}

const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,10}$/);
const host = fc.array(fc.oneof(label, fc.constantFrom('run', 'app', 'a', 'cloudfunctions', 'net', 'googleapis', 'com', '123', '0x1', 'xn--bcher-kva')), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,8}$/),
  fc.constantFrom('.', '..', '%2e', 'a b', 'ü', '"', '<', '`', '^', '|', '{', '\\'),
);
const url = fc
  .record({
    scheme: fc.constantFrom('https', 'http', 'HTTPS', 'ftp'),
    host,
    port: fc.option(fc.constantFrom('443', '80', '8080', '0443', '65536', ''), { nil: undefined }),
    path: fc.option(fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join('/')}`), { nil: undefined }),
    query: fc.option(fc.array(segment, { maxLength: 3 }).map((s) => `?${s.join('&')}`), { nil: undefined }),
    hash: fc.option(segment.map((s) => `#${s}`), { nil: undefined }),
  })
  .map((p) => `${p.scheme}://${p.host}${p.port !== undefined ? `:${p.port}` : ''}${p.path ?? ''}${p.query ?? ''}${p.hash ?? ''}`);

describe('parseHttpUrl', () => {
  it('agrees with new URL on generated URLs', () => {
    fc.assert(
      fc.property(url, (text) => {
        expect(parseHttpUrl(text)).toEqual(viaUrl(text));
      }),
      { numRuns: 5000, seed: 20261129 },
    );
  });

  it('agrees with new URL on the forms jobs carry', () => {
    for (const text of [
      'https://svc-abc123-uc.a.run.app',
      'https://svc-abc123-uc.a.run.app/',
      'https://SVC-abc123-UC.a.run.app:443/run?x=1#f',
      'https://svc-300000000003.us-central1.run.app/tasks/daily',
      'https://us-central1-proj.cloudfunctions.net/fn?dry_run=true',
      'https://run.googleapis.com/v2/projects/p/locations/l/jobs/j:run',
      'http://10.0.0.1:8080/x',
      'https://example.com/a/../b',
      'https://example.com/a%20b?q=a b',
      'not a url',
      'mailto:x@example.com',
    ]) {
      expect(parseHttpUrl(text), text).toEqual(viaUrl(text));
    }
  });
});
