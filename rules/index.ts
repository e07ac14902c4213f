import type { Rule } from '../src/engine/define-rule.js';
import httpTargetUsesOidc from './http-target-uses-oidc.js';
import oidcAudienceMatchesTarget from './oidc-audience-matches-target.js';
import oidcSaCanInvokeTarget from './oidc-sa-can-invoke-target.js';
import googleApiTargetUsesOauth from './google-api-target-uses-oauth.js';
import oauthSaCanCallTarget from './oauth-sa-can-call-target.js';
import tokenSaExistsAndEnabled from './token-sa-exists-and-enabled.js';
import tokenSaNotDefaultCompute from './token-sa-not-default-compute.js';
import tokenSaInJobProject from './token-sa-in-job-project.js';
import schedulerServiceAgentHasRole from './scheduler-service-agent-has-role.js';
import ingressAdmitsScheduler from './ingress-admits-scheduler.js';
import lastAttemptAuthorized from './last-attempt-authorized.js';
import jobUriHasNoCredential from './job-uri-has-no-credential.js';

/**
 * The explicit registry, in evaluation order. `last-attempt-authorized` runs last: it joins its
 * evidence to the configuration findings that come before it.
 */
export const allRules: readonly Rule[] = [
  httpTargetUsesOidc,
  oidcAudienceMatchesTarget,
  oidcSaCanInvokeTarget,
  googleApiTargetUsesOauth,
  oauthSaCanCallTarget,
  tokenSaExistsAndEnabled,
  tokenSaNotDefaultCompute,
  tokenSaInJobProject,
  schedulerServiceAgentHasRole,
  ingressAdmitsScheduler,
  jobUriHasNoCredential,
  lastAttemptAuthorized,
] as Rule[];

export function ruleById(id: string, rules: readonly Rule[] = allRules): Rule | undefined {
  return rules.find((r) => r.meta.id === id);
}
