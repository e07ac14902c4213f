import type { JobAuthorization } from '../engine/remedy.js';

type Json = Record<string, unknown>;

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The token of a job as a Scheduler client returned it (unset message fields are null). */
export function liveAuthorization(job: Json): JobAuthorization {
  const http = (job.httpTarget ?? undefined) as Json | undefined;
  const oidc = (http?.oidcToken ?? undefined) as Json | undefined;
  const oauth = (http?.oauthToken ?? undefined) as Json | undefined;
  if (oidc) {
    const audience = nonEmpty(oidc.audience);
    return { type: 'oidc', serviceAccountEmail: String(oidc.serviceAccountEmail ?? ''), ...(audience ? { audience } : {}) };
  }
  if (oauth) {
    const scope = nonEmpty(oauth.scope);
    return { type: 'oauth', serviceAccountEmail: String(oauth.serviceAccountEmail ?? ''), ...(scope ? { scope } : {}) };
  }
  return { type: 'none' };
}

export function sameAuthorization(a: JobAuthorization, b: JobAuthorization): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'none') return true;
  if (a.serviceAccountEmail.toLowerCase() !== (b as typeof a).serviceAccountEmail.toLowerCase()) return false;
  if (a.type === 'oidc') return (a.audience ?? '') === ((b as typeof a).audience ?? '');
  return (a.scope ?? '') === ((b as typeof a).scope ?? '');
}

export function describeAuthorization(a: JobAuthorization): string {
  switch (a.type) {
    case 'none':
      return 'no token';
    case 'oidc':
      return `OIDC as ${a.serviceAccountEmail}, audience ${a.audience ?? '(default: the job URI)'}`;
    case 'oauth':
      return `OAuth as ${a.serviceAccountEmail}, scope ${a.scope ?? '(default)'}`;
  }
}

const OIDC = 'http_target.oidc_token';
const OAUTH = 'http_target.oauth_token';

/**
 * The UpdateJob mask for a token change: proto field paths (snake_case, as gRPC wants them; a
 * camelCase `httpTarget` is refused) of the token fields alone, leaf by leaf as gcloud sends
 * them, plus the other token of the oneof when it has to go. Nothing else of the job is touched.
 */
export function tokenUpdateMask(before: JobAuthorization, after: JobAuthorization): string[] {
  const drop = (t: JobAuthorization['type']) => (t === 'oidc' ? [OIDC] : t === 'oauth' ? [OAUTH] : []);
  if (after.type === 'none') return drop(before.type);
  const base = after.type === 'oidc' ? OIDC : OAUTH;
  const second = after.type === 'oidc' ? 'audience' : 'scope';
  const paths: string[] = [];
  if (before.type !== after.type || before.serviceAccountEmail.toLowerCase() !== after.serviceAccountEmail.toLowerCase()) {
    paths.push(`${base}.service_account_email`);
  }
  const beforeSecond = before.type === after.type ? ((before as Json)[second] ?? '') : '';
  if (before.type !== after.type || beforeSecond !== ((after as Json)[second] ?? '')) paths.push(`${base}.${second}`);
  if (before.type !== after.type) paths.push(...drop(before.type));
  return paths;
}

/** The job message for UpdateJob: its name and HTTP target with the new token; the mask says what counts. */
export function tokenUpdateRequest(live: Json, after: JobAuthorization): Json {
  const http = (live.httpTarget ?? {}) as Json;
  const target: Json = { uri: http.uri, httpMethod: http.httpMethod };
  if (after.type === 'oidc') target.oidcToken = { serviceAccountEmail: after.serviceAccountEmail, ...(after.audience ? { audience: after.audience } : {}) };
  if (after.type === 'oauth') target.oauthToken = { serviceAccountEmail: after.serviceAccountEmail, ...(after.scope ? { scope: after.scope } : {}) };
  return { name: live.name, httpTarget: target };
}

export function tokenAccountOf(a: JobAuthorization): string | undefined {
  return a.type === 'none' ? undefined : a.serviceAccountEmail;
}
