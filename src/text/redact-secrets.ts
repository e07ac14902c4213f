/**
 * Credentials copied from the inventory into what the scanner writes: a job URI with
 * `user:pass@` or `?token=`, a bearer token quoted in the last attempt's status message. Every
 * sink (findings, Pub/Sub, the spool, the logs) gets the redacted text. A redacted URL keeps its
 * scheme, host, path and parameter names, enough to tell which target it is.
 */

export const REDACTED = '[REDACTED]';
/** In a URL the marker must stay URL-safe, so the redacted URL still parses. */
export const REDACTED_IN_URL = 'REDACTED';

/**
 * Query (or fragment) parameter names whose value is a credential: exact names, and names ending
 * in one of the suffixes after `-`, `_` or `.` (`x-goog-signature`, `x-amz-security-token`,
 * `client_secret`, `api_key`). `code` is Azure Functions' key parameter, `sig` Azure SAS's.
 */
const SECRET_PARAM_NAMES = new Set([
  'token', 'access_token', 'accesstoken', 'id_token', 'refresh_token', 'auth', 'auth_token', 'authorization',
  'key', 'apikey', 'api_key', 'api-key', 'sig', 'signature', 'secret', 'client_secret', 'password', 'passwd', 'pwd',
  'pass', 'code', 'credential', 'credentials', 'jwt', 'session', 'sessionid', 'session_id', 'private_key',
]);
const SECRET_NAME_SUFFIXES = ['token', 'key', 'secret', 'signature', 'sig', 'password', 'credential', 'credentials'];
const SECRET_PARAM_SUFFIX = new RegExp(`[-_.](?:${SECRET_NAME_SUFFIXES.join('|')})$`);
/** Names that end like a secret's but hold where one is kept: the path is what the user must see. */
const PATH_PARAM_NAMES = new Set(['google_application_credentials']);

/** Whether a URL parameter of this name carries a credential. */
export function isSecretParamName(name: string): boolean {
  // `token[]=` and `auth[key]=`: the brackets of PHP-style array parameters do not hide the name.
  const n = safeDecode(name).toLowerCase().replace(/\[[^\]]*\]$/, '');
  if (PATH_PARAM_NAMES.has(n)) return false;
  return SECRET_PARAM_NAMES.has(n) || SECRET_PARAM_SUFFIX.test(n);
}

function safeDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * Where a URL holds a credential: `user info`; `query parameter NAME`, `fragment parameter NAME`
 * or `path parameter NAME` (`;name=` in a path segment); a parameter whose value is a URL with
 * user info (percent-encoded, as in a redirect); a token-shaped string anywhere in it.
 */
export function credentialsInUrl(url: string): string[] {
  const found: string[] = [];
  const m = URL_PARTS.exec(url);
  if (!m) return found;
  if (m[2] !== undefined) found.push('user info');
  if (m[3]!.includes(';')) {
    for (const [, name, value] of m[3]!.matchAll(PATH_PARAM)) {
      if (value !== '' && isSecretParamName(name!)) found.push(`path parameter ${safeDecode(name!)}`);
    }
  }
  for (const [part, text] of [['query', m[4]], ['fragment', m[5]]] as const) {
    if (!text) continue;
    for (const pair of text.slice(1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      const name = safeDecode(pair.slice(0, eq));
      if (isSecretParamName(pair.slice(0, eq))) found.push(`${part} parameter ${name}`);
      else if (holdsUrlWithUserInfo(pair.slice(eq + 1))) found.push(`${part} parameter ${name} (a URL with user info)`);
    }
  }
  if (hasTokenShape(url) && URL_TOKENS.some(([pattern]) => new RegExp(pattern.source).test(url))) found.push('a token-shaped string');
  return found;
}

/** `;name=value` in a path segment (matrix parameters). */
const PATH_PARAM = /;([^;/=?#]+)=([^;/?#]*)/g;

/** A parameter value that is, once decoded, a URL with user info (`?next=https%3A%2F%2Fu%3Ap%40host`). */
function holdsUrlWithUserInfo(value: string): boolean {
  if (!value.includes('%') && !value.includes('@')) return false;
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\s]*@/.test(safeDecode(value));
}

/** Cheap necessary condition for {@link URL_TOKENS}: the start of each token shape. */
const URL_TOKEN_HINT = /eyJ|ya29\.|AIza|1\/\//;
function hasTokenShape(text: string): boolean {
  return URL_TOKEN_HINT.test(text);
}

/**
 * Whether a URI can hold anything {@link credentialsInUrl} finds: user info, a parameter (query,
 * fragment or path) or a token shape. One pattern: it runs on every job of a scan.
 */
export const URL_MAY_HOLD_CREDENTIAL = new RegExp(`[@?#;]|${URL_TOKEN_HINT.source}`);

/**
 * scheme://, optional userinfo@, host and path, ?query, #fragment. Written by hand rather than
 * through `URL`: the parser normalises (and would re-encode) the parts that are kept.
 */
const URL_PARTS = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)(?:([^/?#]*)@)?([^?#]*)(\?[^#]*)?(#.*)?$/s;

/** Only a URL with one of these can hold user info or parameters. */
const PLAIN_URL_HINT = /[@?#;]/;

/**
 * One URL with its user info, the values of credential parameters (query, fragment and path) and
 * token-shaped strings replaced.
 */
export function redactUrl(url: string): string {
  // User info needs an `@`, an encoded parameter name a `%`; a plain one ends like a secret's.
  if (!hasTokenShape(url) && (!PLAIN_URL_HINT.test(url) || (!url.includes('@') && !url.includes('%') && !hasSecretNamedParameter(url)))) return url;
  return redactUrlUnguarded(url);
}

/** {@link redactUrl} without the guard: exported so a test can hold the guard to it. */
export function redactUrlUnguarded(url: string): string {
  const m = URL_PARTS.exec(url);
  if (!m) return url;
  const [, scheme, userinfo, rest, query, fragment] = m;
  const path = rest!.includes(';') ? rest!.replace(PATH_PARAM, (whole, name: string) => (isSecretParamName(name) ? `;${name}=${REDACTED_IN_URL}` : whole)) : rest!;
  let out = `${scheme}${userinfo !== undefined ? `${REDACTED_IN_URL}@` : ''}${path}${redactParams(query)}${redactParams(fragment)}`;
  if (hasTokenShape(out)) for (const [pattern] of URL_TOKENS) out = out.replace(pattern, REDACTED_IN_URL);
  return out;
}

function redactParams(part: string | undefined): string {
  if (!part) return part ?? '';
  const pairs = part.slice(1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq > 0 && (isSecretParamName(pair.slice(0, eq)) || holdsUrlWithUserInfo(pair.slice(eq + 1))) ? `${pair.slice(0, eq + 1)}${REDACTED_IN_URL}` : pair;
  });
  return `${part[0]}${pairs.join('&')}`;
}

/** URLs inside free text: up to whitespace, a quote or an angle bracket. */
const URL_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>`]+/g;
/**
 * `name=value` outside a URL ("access_token=..." in an error message); `code=` there is a status
 * code. A value may be a scheme and its token (`Authorization=Bearer ...`): both go.
 */
const PARAM_IN_TEXT = /\b([A-Za-z][\w.-]*(?:\[[^\]\s]*\])?)=((?:(?:Bearer|Basic)(?:\s+|%20|\+))?[^\s&"'<>`,;]+)/gi;
/**
 * `name: value`, as in a header (`Authorization: ...`, `X-Api-Key: ...`) or a JSON object quoted in
 * a message (`{"access_token":"..."}`). Unquoted, only a header's name counts (`authorization`, or
 * a name with a `-`): prose such as "without any token: the target" is not a credential.
 */
const NAMED_VALUE_IN_TEXT = /(["']?)\b([A-Za-z][\w.-]*)\1[ \t]*:[ \t]*(["']?)((?:(?:Bearer|Basic)[ \t]+)?[^\s"'<>`,;{}[\]]+)\3/gi;
const TOKENS: [RegExp, string][] = [
  [/\b(Bearer|Basic)(?:\s+|%20|\+)[^\s"'<>,;]{4,}/gi, `$1 ${REDACTED}`],
  [/\bya29\.[\w.-]+/g, REDACTED], // Google OAuth access tokens
  [/\b1\/\/[\w.-]{20,}/g, REDACTED], // Google refresh tokens
  [/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g, REDACTED], // JWTs: ID tokens, signed assertions
  [/\bAIza[\w-]{30,}/g, REDACTED], // Google API keys
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
];
/** The token shapes that can stand in a URL (a path segment, a parameter under any name). */
const URL_TOKENS = TOKENS.slice(1, 5);
/**
 * Cheap tests first, each guarding the work it would save: most text (a million findings'
 * messages, most with a plain https URL or an account's e-mail in them) holds no secret.
 * A URL is only taken apart when it has user info, a query or a fragment.
 */
const URL_HINT = /:\/\/[^\s/?#]*@|:\/\/[^\s]*[?#]/;
const TOKEN_HINT = /bearer|basic|ya29\.|1\/\/|eyJ|AIza|PRIVATE KEY/i;

/**
 * Every name {@link isSecretParamName} accepts ends in one of these (exact names and suffixes
 * alike), so text where no `=` follows one of them has no credential parameter to redact.
 */
const SECRET_NAME_ENDINGS = [...SECRET_PARAM_NAMES, ...SECRET_NAME_SUFFIXES];
/**
 * The endings read backwards, letter by letter (lower case), as a tree: a name is tested by
 * walking back from its `=`, without cutting or lower-casing a copy of it.
 */
interface EndingNode {
  end?: true;
  next: Map<number, EndingNode>;
}
const SECRET_NAME_END_TREE: EndingNode = { next: new Map() };
for (const ending of SECRET_NAME_ENDINGS) {
  let node = SECRET_NAME_END_TREE;
  for (let i = ending.length - 1; i >= 0; i--) {
    const c = ending.charCodeAt(i);
    let next = node.next.get(c);
    if (!next) node.next.set(c, (next = { next: new Map() }));
    node = next;
  }
  node.end = true;
}

/** Whether the text just before `at` ends, in any case, like a credential parameter's name. */
function endsLikeSecretName(text: string, at: number): boolean {
  let node: EndingNode | undefined = SECRET_NAME_END_TREE;
  for (let i = at - 1; i >= 0; i--) {
    let c = text.charCodeAt(i);
    // Lower case as toLowerCase() would: the Kelvin sign is the one non-ASCII letter that becomes one.
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    else if (c === 0x212a) c = 0x6b;
    node = node.next.get(c);
    if (node === undefined) return false;
    if (node.end) return true;
  }
  return false;
}

/**
 * Whether `text` can hold anything {@link redactText} would replace: a necessary condition for
 * each of its three passes, checked with plain string searches. Nearly all text the scanner
 * writes (a million findings' messages and fix commands, full of `--flag=value` and
 * `name = "value"`) fails it, and is returned as it is without running the passes' patterns.
 */
export function mayHoldSecret(text: string): boolean {
  // A URL with user info, or with a `%` in its query or fragment (an encoded parameter name);
  // plainly written parameter names are the `=` check's.
  if (hasUserInfo(text) || (text.includes('%') && URL_PERCENT_HINT.test(text))) return true;
  if (hasSecretNamedParameter(text) || hasSecretNamedValue(text)) return true;
  return TOKEN_SHAPE_HINT.test(text);
}

/**
 * Token-shaped strings: Bearer and Basic in any case, the others exactly as the patterns spell
 * them. One pass: five `includes` and a case-insensitive pattern scanned each text six times.
 * (No lower-cased copy: a million findings' copies kept the collector busy.)
 */
const TOKEN_SHAPE_HINT = /ya29\.|1\/\/|eyJ|AIza|PRIVATE KEY|[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc]/;
/** The second half of URL_HINT narrowed to a `%` after the query or fragment starts. */
const URL_PERCENT_HINT = /:\/\/[^\s?#]*[?#]\S*%/;

/**
 * `://` followed by an `@` before any of whitespace, `/`, `?` or `#`: the first half of
 * URL_HINT, read with indexOf and a short walk over each host rather than a regular expression
 * over the whole text. Only ASCII whitespace ends the walk: a walk that goes on past other
 * spaces finds at most more, never less.
 */
function hasUserInfo(text: string): boolean {
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    for (let i = at + 3; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x40) return true;
      if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) break;
    }
  }
  return false;
}

/** `name=value` whose name ends like a credential parameter's (each ending ends in a letter). */
function hasSecretNamedParameter(text: string): boolean {
  for (let eq = text.indexOf('='); eq !== -1; eq = text.indexOf('=', eq + 1)) {
    if (endsLikeSecretName(text, beforeBrackets(text, eq))) return true;
  }
  return false;
}

/** Where a name ends that `[...]` follows (`token[]=`), or `at` itself. */
function beforeBrackets(text: string, at: number): number {
  if (text.charCodeAt(at - 1) !== 0x5d) return at;
  const open = text.lastIndexOf('[', at - 1);
  return open === -1 ? at : open;
}

/**
 * A quoted name (JSON), or a header's name with a value as long as a credential's: a summary line
 * such as "job-uri-has-no-credential: 4 fail" is neither.
 */
function isHeaderOrQuotedName(name: string, quote: string, value: string): boolean {
  const n = name.toLowerCase();
  if (n === 'code') return false;
  return quote !== '' || ((n.includes('-') || n === 'authorization') && value.length >= 8);
}

/**
 * `"name": value`, or `Name: value` where the name is a header's (has a `-`, or is
 * `authorization`), whose name ends like a credential parameter's: what NAMED_VALUE_IN_TEXT
 * replaces. Prose ("without any token: the target") fails it and skips the passes.
 */
function hasSecretNamedValue(text: string): boolean {
  for (let colon = text.indexOf(':'); colon !== -1; colon = text.indexOf(':', colon + 1)) {
    let at = colon;
    while (at > 0 && (text.charCodeAt(at - 1) === 0x20 || text.charCodeAt(at - 1) === 0x09)) at--;
    const q = text.charCodeAt(at - 1);
    const quoted = q === 0x22 || q === 0x27;
    if (quoted) at--;
    if (!endsLikeSecretName(text, at)) continue;
    if (quoted || headerLikeNameBefore(text, at)) return true;
  }
  return false;
}

/** Whether the name that ends at `at` has a `-` or is `authorization` (in any case). */
function headerLikeNameBefore(text: string, at: number): boolean {
  let start = at;
  for (; start > 0; start--) {
    const c = text.charCodeAt(start - 1);
    if (c === 0x2d) return true;
    const word = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x212a;
    if (!word) break;
  }
  return at - start === 13 && text.slice(start, at).toLowerCase() === 'authorization';
}

/** Free text with URL credentials, credential parameters and token-shaped strings replaced. */
export function redactText(text: string): string {
  return mayHoldSecret(text) ? redactSecretsIn(text) : text;
}

/** {@link redactText} without the guard: exported so a test can hold the guard to it. */
export function redactSecretsIn(text: string): string {
  let out = text;
  if (out.includes('://') && URL_HINT.test(out)) out = out.replace(URL_IN_TEXT, (url) => redactUrl(url));
  if (out.includes('=')) {
    out = out.replace(PARAM_IN_TEXT, (whole, name: string, value: string) =>
      !value.startsWith(REDACTED_IN_URL) && name.toLowerCase() !== 'code' && isSecretParamName(name) ? `${name}=${REDACTED}` : whole,
    );
  }
  if (out.includes(':') && hasSecretNamedValue(out)) {
    out = out.replace(NAMED_VALUE_IN_TEXT, (whole, quote: string, name: string, valueQuote: string, value: string) =>
      value !== REDACTED && value !== REDACTED_IN_URL && isHeaderOrQuotedName(name, quote, value) && isSecretParamName(name)
        ? `${quote}${name}${quote}: ${valueQuote}${REDACTED}${valueQuote}`
        : whole,
    );
  }
  if (TOKEN_HINT.test(out)) for (const [pattern, replacement] of TOKENS) out = out.replace(pattern, replacement);
  return out;
}

/** A copy of a JSON-like value with every string redacted; the same object when nothing changed. */
export function redactDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = redactDeep(v, depth + 1);
      if (r !== v) changed = true;
      return r;
    });
    return (changed ? out : value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = redactDeep(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return (out ?? value) as T;
}
