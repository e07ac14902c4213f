import type { ScheduledJob } from '../model/types.js';
import type { JobAuthorization } from './remedy.js';

/** The job's token as a fixer's before-value: exactly the fields a token change touches. */
export function jobAuthorization(job: ScheduledJob): JobAuthorization {
  const http = job.http;
  if (http?.oidcToken) {
    const { serviceAccountEmail, audience } = http.oidcToken;
    return audience ? { type: 'oidc', serviceAccountEmail, audience } : { type: 'oidc', serviceAccountEmail };
  }
  if (http?.oauthToken) {
    const { serviceAccountEmail, scope } = http.oauthToken;
    return scope ? { type: 'oauth', serviceAccountEmail, scope } : { type: 'oauth', serviceAccountEmail };
  }
  return { type: 'none' };
}
