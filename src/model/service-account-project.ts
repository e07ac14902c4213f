/**
 * The project a service account belongs to, read from its email: user-managed accounts
 * (`NAME@PROJECT_ID.iam.gserviceaccount.com`), the App Engine default account
 * (`PROJECT_ID@appspot.gserviceaccount.com`) and the Compute Engine default account
 * (`PROJECT_NUMBER-compute@developer.gserviceaccount.com`). Google-managed accounts (service
 * agents) live in Google's projects: undefined.
 */
const USER_MANAGED_SA = /^[^@]+@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/;
const DEFAULT_COMPUTE_SA = /^(\d+)-compute@developer\.gserviceaccount\.com$/;
const APP_ENGINE_DEFAULT_SA = /^([a-z][a-z0-9-]{4,28}[a-z0-9])@appspot\.gserviceaccount\.com$/;

export type ServiceAccountProjectRef = { projectId: string } | { projectNumber: string };

export function serviceAccountProjectFromEmail(email: string): ServiceAccountProjectRef | undefined {
  const e = email.toLowerCase();
  const m = USER_MANAGED_SA.exec(e) ?? APP_ENGINE_DEFAULT_SA.exec(e);
  if (m) return { projectId: m[1]! };
  const c = DEFAULT_COMPUTE_SA.exec(e);
  return c ? { projectNumber: c[1]! } : undefined;
}

export function isDefaultComputeServiceAccount(email: string): boolean {
  return DEFAULT_COMPUTE_SA.test(email.toLowerCase());
}
