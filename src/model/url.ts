/**
 * HTTP(S) URL parts, through the WHATWG parser (`URL.parse`, no exception on bad input).
 * Measured on Node 24: it beats any regular expression that is as strict, so there is no
 * hand-written fast path.
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

export function parseHttpUrl(url: string): HttpUrlParts | undefined {
  const u = URL.parse(url);
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) return undefined;
  return { protocol: u.protocol, host: u.host, hostname: u.hostname, pathname: u.pathname, search: u.search, hash: u.hash };
}
