import protobuf from 'protobufjs';
import { fail } from '../faults.js';

type Json = Record<string, unknown>;

/** Settings that make UpdateJob as strict as Google's, or stricter where a test needs proof. */
export interface JobUpdateRules {
  /** Refuse an UpdateJob without an update mask (Google then replaces the job): proves the product always sends one. */
  requireMask?: boolean;
  /** Service accounts the caller holds `iam.serviceAccounts.actAs` on; undefined: all. */
  actAs?: readonly string[];
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Checks an update mask as Google's gRPC API does: proto field paths, segment by segment, in
 * the proto's own (snake_case) names. A JSON camelCase name, a oneof's name (it is not a field)
 * or an unknown field is INVALID_ARGUMENT; `*` alone means a full replacement. Returns the paths
 * as the camelCase segments the stored JSON uses.
 */
export function checkJobMask(jobType: protobuf.Type, paths: readonly string[]): string[][] | '*' {
  if (paths.includes('*')) {
    if (paths.length > 1) fail('INVALID_ARGUMENT', 'Invalid update_mask: "*" must be the only path');
    return '*';
  }
  return paths.map((path) => {
    let type: protobuf.Type | undefined = jobType;
    const out: string[] = [];
    for (const segment of path.split('.')) {
      if (!type) fail('INVALID_ARGUMENT', `Invalid update_mask path "${path}": "${out.join('.')}" is not a message`);
      const field: protobuf.Field | undefined = type.fieldsArray.find((f) => snake(f.name) === segment);
      if (!field) {
        const hint = type.oneofsArray.some((o) => snake(o.name) === segment)
          ? ' is a oneof, not a field'
          : type.fieldsArray.some((f) => f.name === segment)
            ? ' is the JSON name; the mask takes proto field names (snake_case)'
            : ' is not a field';
        fail('INVALID_ARGUMENT', `Invalid mask for Job: "${path}": "${segment}"${hint}`);
      }
      out.push(field.name);
      const resolved: protobuf.Type | protobuf.Enum | null = field.resolve().resolvedType;
      type = resolved instanceof protobuf.Type && !field.map && !field.repeated ? resolved : undefined;
    }
    return out;
  });
}

const DAY_TZ = new Set<string>();
function validTimeZone(tz: string): boolean {
  if (DAY_TZ.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    DAY_TZ.add(tz);
    return true;
  } catch {
    return false;
  }
}

function seconds(duration: unknown): number | undefined {
  if (typeof duration !== 'string') return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(duration);
  return m ? Number(m[1]) : undefined;
}

/**
 * The job an update would leave, validated as job.proto and target.proto require (GCP-FACTS §1):
 * a schedule, a tz database time zone, an http(s) URI, a body only with POST/PUT/PATCH, an
 * attempt deadline of 15 s-30 min for HTTP targets, and a token account in the job's project.
 */
export function checkJob(job: Json, projectId: string, projectNumber: string | undefined): void {
  const bad = (why: string): never => fail('INVALID_ARGUMENT', `Invalid job ${String(job.name)}: ${why}`);
  if (typeof job.schedule !== 'string' || job.schedule.trim() === '') bad('schedule is required');
  if (job.timeZone !== undefined && job.timeZone !== '' && !validTimeZone(String(job.timeZone))) bad(`time_zone "${String(job.timeZone)}" is not a tz database name`);
  const http = job.httpTarget as Json | undefined;
  if (!http) return;
  if (typeof http.uri !== 'string' || !/^https?:\/\//i.test(http.uri)) bad('http_target.uri must start with http:// or https://');
  if (String(http.uri).length > 2083) bad('http_target.uri is longer than 2083 characters');
  const method = String(http.httpMethod ?? 'POST');
  if (http.body && !['POST', 'PUT', 'PATCH', 'HTTP_METHOD_UNSPECIFIED'].includes(method)) bad(`a body is allowed only with POST, PUT or PATCH, not ${method}`);
  const deadline = seconds(job.attemptDeadline);
  if (deadline !== undefined && (deadline < 15 || deadline > 1800)) bad('attempt_deadline must be between 15 seconds and 30 minutes for HTTP targets');
  if (http.oidcToken && http.oauthToken) bad('only one of oidc_token and oauth_token may be set');
  for (const key of ['oidcToken', 'oauthToken']) {
    const token = http[key] as Json | undefined;
    if (!token) continue;
    const email = String(token.serviceAccountEmail ?? '');
    if (!email) bad(`${key === 'oidcToken' ? 'oidc_token' : 'oauth_token'}.service_account_email is required`);
    const m = /@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(email) ?? /^([a-z][a-z0-9-]{4,28}[a-z0-9])@appspot\.gserviceaccount\.com$/.exec(email);
    const c = /^(\d+)-compute@developer\.gserviceaccount\.com$/.exec(email);
    if ((m && m[1] !== projectId) || (c && projectNumber && c[1] !== projectNumber)) {
      bad(`service account ${email} must be within the same project as the job (${projectId})`);
    }
  }
}

/** The token accounts an update would set, for the actAs check (only accounts newly written count). */
export function tokenAccounts(job: Json): string[] {
  const http = job.httpTarget as Json | undefined;
  return ['oidcToken', 'oauthToken'].flatMap((k) => {
    const email = (http?.[k] as Json | undefined)?.serviceAccountEmail;
    return typeof email === 'string' && email ? [email] : [];
  });
}

/** PERMISSION_DENIED as IAM words it when the caller may not act as the account. */
export function checkActAs(rules: JobUpdateRules, accounts: readonly string[]): void {
  if (!rules.actAs) return;
  for (const email of accounts) {
    if (!rules.actAs.some((a) => a.toLowerCase() === email.toLowerCase())) {
      fail('PERMISSION_DENIED', `The principal (user or service account) lacks IAM permission "iam.serviceAccounts.actAs" for the resource "projects/-/serviceAccounts/${email}" (or the resource may not exist).`);
    }
  }
}

/**
 * FieldMask merge: a message at the end of a path is merged field by field, not replaced, with
 * proto merge semantics (a oneof member that is set replaces its siblings; repeated fields append).
 */
export function mergeMessage(to: Json, from: Json, type: protobuf.Type): void {
  for (const [k, v] of Object.entries(from)) {
    const field = type.fields[k];
    if (!field) continue;
    for (const sibling of field.partOf?.oneof ?? []) if (sibling !== k) delete to[sibling];
    const sub = field.resolve().resolvedType;
    if (sub instanceof protobuf.Type && !field.map && !field.repeated && v && typeof v === 'object' && to[k] && typeof to[k] === 'object') {
      mergeMessage(to[k] as Json, v as Json, sub);
    } else if (field.repeated && Array.isArray(v) && Array.isArray(to[k])) {
      to[k] = [...(to[k] as unknown[]), ...structuredClone(v)];
    } else {
      to[k] = structuredClone(v);
    }
  }
}
