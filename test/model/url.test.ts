import { describe, expect, it } from 'vitest';
import { parseHttpUrl } from '../../src/model/url.js';

describe('parseHttpUrl', () => {
  it('gives the parts of http(s) URLs, normalised as WHATWG does', () => {
    expect(parseHttpUrl('https://SVC-abc123-UC.a.run.app:443/run?x=1#f')).toEqual({
      protocol: 'https:', host: 'svc-abc123-uc.a.run.app', hostname: 'svc-abc123-uc.a.run.app', pathname: '/run', search: '?x=1', hash: '#f',
    });
    expect(parseHttpUrl('http://10.0.0.1:8080')).toMatchObject({ host: '10.0.0.1:8080', hostname: '10.0.0.1', pathname: '/' });
    expect(parseHttpUrl('https://example.com/a/../b')?.pathname).toBe('/b');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(parseHttpUrl('not a url')).toBeUndefined();
    expect(parseHttpUrl('mailto:x@example.com')).toBeUndefined();
    expect(parseHttpUrl('ftp://example.com/x')).toBeUndefined();
  });
});
