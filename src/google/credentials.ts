import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { CredentialsError } from '../errors.js';
import { GOOGLE_API_ENDPOINT_ENV } from './client-options.js';

const LOGIN = 'gcloud auth application-default login';
const CONTAINER_HINT =
  'In a container, mount that file and name it: docker run --user "$(id -u):$(id -g)" ' +
  '-v "$HOME/.config/gcloud/application_default_credentials.json:/creds.json:ro" -e GOOGLE_APPLICATION_CREDENTIALS=/creds.json …';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/** Which parts of a run talk to Google with the caller's credentials (and not to a local fake or emulator). */
export interface CredentialNeeds {
  /** A Cloud Asset (and Resource Manager) scan. */
  api: boolean;
  /** Publishing to a Pub/Sub topic. */
  pubsub: boolean;
}

/**
 * Whether a run needs Google credentials at all: not for export files, not against the local
 * fake (`CRONWARDEN_GOOGLE_API_ENDPOINT`, no auth), not for the Pub/Sub emulator. The Pub/Sub
 * client reads its emulator variables from the process environment, so both are looked at.
 */
export function needsCredentials(needs: CredentialNeeds, env: NodeJS.ProcessEnv): boolean {
  const fake = Boolean(env[GOOGLE_API_ENDPOINT_ENV]?.trim());
  const pubsubEmulator = [env, process.env].some((e) => Boolean(e.PUBSUB_EMULATOR_HOST?.trim() || e.CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB?.trim()));
  return (needs.api && !fake) || (needs.pubsub && !pubsubEmulator);
}

/** Control characters and escapes out: file names and server text reach a terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 300);
}

/**
 * Gets one access token with Application Default Credentials before anything is read, so that a
 * missing, unreadable or expired credential is one clear error that names the fix, instead of a
 * stack trace from the middle of a listing. Throws {@link CredentialsError}.
 */
export async function checkCredentials(env: NodeJS.ProcessEnv): Promise<void> {
  const file = env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  if (file) await checkCredentialsFile(file);
  const { GoogleAuth } = await import('google-gax');
  const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM], ...(file ? { keyFilename: file } : {}) });
  try {
    const client = await auth.getClient();
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('no access token in the answer');
  } catch (err) {
    throw credentialsFailure(err, file);
  }
}

async function checkCredentialsFile(file: string): Promise<void> {
  const shown = printable(file);
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw unreadable(shown, err);
    throw new CredentialsError(
      'CREDENTIALS_FILE_NOT_FOUND',
      `GOOGLE_APPLICATION_CREDENTIALS=${shown}: file not found. Run '${LOGIN}' and point the variable at the file it writes ` +
        `(~/.config/gcloud/application_default_credentials.json), or unset it. ${CONTAINER_HINT}`,
      false,
      { cause: err },
    );
  }
  if (!isFile) {
    throw new CredentialsError('CREDENTIALS_FILE_NOT_FOUND', `GOOGLE_APPLICATION_CREDENTIALS=${shown}: not a file. Point it at the file '${LOGIN}' writes, or unset it.`);
  }
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw unreadable(shown, err);
  }
}

function unreadable(shown: string, cause: unknown): CredentialsError {
  const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  return new CredentialsError(
    'CREDENTIALS_FILE_UNREADABLE',
    `credentials file ${shown}: this process${uid} may not read it. In a container, run it as the file's owner with ` +
      `docker run --user "$(id -u):$(id -g)" …; otherwise make the file readable to the user that runs cronwarden.`,
    false,
    { cause },
  );
}

/** One clear error for whatever google-auth threw. */
function credentialsFailure(err: unknown, file: string | undefined): CredentialsError {
  const e = err as { message?: unknown; code?: unknown; path?: unknown; response?: { status?: unknown; data?: unknown } };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === 'EACCES') return unreadable(printable(typeof e.path === 'string' ? e.path : (file ?? 'the credentials file')), err);
  const data = (e?.response?.data ?? {}) as { error?: unknown; error_description?: unknown };
  if (data.error === 'invalid_grant' || /invalid_grant/.test(message)) {
    const why = typeof data.error_description === 'string' ? `: ${printable(data.error_description)}` : '';
    return new CredentialsError(
      'CREDENTIALS_EXPIRED',
      `Google refused the credentials${file ? ` in ${printable(file)}` : ''} (invalid_grant${why}): the login has expired or was revoked. ` +
        `Run '${LOGIN}' again.`,
      false,
      { cause: err },
    );
  }
  if (/Could not load the default credentials/i.test(message)) {
    return new CredentialsError(
      'NO_CREDENTIALS',
      `no Google credentials found. Run '${LOGIN}', or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file; ` +
        `on Cloud Run the job's service account is used. ${CONTAINER_HINT}`,
      false,
      { cause: err },
    );
  }
  const status = typeof e?.response?.status === 'number' ? e.response.status : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    return new CredentialsError(
      'CREDENTIALS_REFUSED',
      `Google refused the credentials${file ? ` in ${printable(file)}` : ''} (HTTP ${status}: ${printable(message)}). Run '${LOGIN}' again, or check the key file.`,
      false,
      { cause: err },
    );
  }
  if (/^(The incoming JSON object|Must pass in a JSON|Unable to parse|Unexpected token)/i.test(message) || err instanceof SyntaxError) {
    return new CredentialsError(
      'CREDENTIALS_FILE_INVALID',
      `credentials file ${printable(file ?? '')} is not a usable credentials file (${printable(message)}). Run '${LOGIN}' to write a new one.`,
      false,
      { cause: err },
    );
  }
  // The token endpoint or metadata server unreachable, or answering 5xx: a later attempt may succeed.
  return new CredentialsError(
    'CREDENTIALS_UNAVAILABLE',
    `could not get an access token (${printable(message)}); the token service may be unreachable. Try again; if it persists, run '${LOGIN}'.`,
    true,
    { cause: err },
  );
}
