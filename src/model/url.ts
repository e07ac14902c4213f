/**
 * HTTP(S) URL parsing for the hot path. `new URL` costs microseconds and a scan parses several
 * URLs a job; the URLs Scheduler jobs carry are almost always already canonical, and for those
 * a regular expression gives the same parts. Anything unusual (IP hosts, dot segments, characters
 * WHATWG would percent-encode, non-ASCII) falls back to `new URL`. A property test holds the two
 * paths equal.
 */
export interface HttpUrlParts {
  protocol: 'http:' | 'https:';
  /** Lower-cased host with a non-default port, as `URL.host`. */
  host: string;
  /** Lower-cased host name without port, as `URL.hostname`. */
  hostname: string;
  /** As `URL.pathname` (at least `/`). */
  pathname: string;
  search: string;
  hash: string;
}

const CANONICAL =
  /^(https?):\/\/((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?::(\d{1,5}))?(\/[A-Za-z0-9._~!$&()*+,;=:@/-]*)?(\?[A-Za-z0-9._~!$&()*+,;=:@/?-]*)?(#[A-Za-z0-9._~!$&()*+,;=:@/?-]*)?$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

export function parseHttpUrl(url: string): HttpUrlParts | undefined {
  const m = CANONICAL.exec(url);
  if (m && !(m[4] && DOT_SEGMENT.test(m[4])) && (m[3] === undefined || !m[3].startsWith('0'))) {
    const protocol = m[1] === 'https' ? 'https:' : m[1] === 'http' ? 'http:' : undefined;
    if (protocol) {
      const hostname = m[2]!.toLowerCase();
      const port = m[3] !== undefined && Number(m[3]) <= 65535 ? m[3] : undefined;
      if (m[3] === undefined || port !== undefined) {
        const isDefault = port === (protocol === 'https:' ? '443' : '80');
        const search = m[5] === '?' ? '' : (m[5] ?? '');
        const hash = m[6] === '#' ? '' : (m[6] ?? '');
        return {
          protocol,
          host: port && !isDefault ? `${hostname}:${port}` : hostname,
          hostname,
          pathname: m[4] ?? '/',
          search,
          hash,
        };
      }
    }
  }
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return { protocol: u.protocol, host: u.host, hostname: u.hostname, pathname: u.pathname, search: u.search, hash: u.hash };
  } catch {
    return undefined;
  }
}
