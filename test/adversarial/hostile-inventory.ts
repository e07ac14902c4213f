import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Scheduler job asset record as `gcloud asset export` writes it. */
export function jobRecord(id: string, http: Record<string, unknown>, extra: Record<string, unknown> = {}, project = 'acme-prod'): string {
  const name = `projects/${project}/locations/us-central1/jobs/${id}`;
  const data = { name, state: 'ENABLED', httpTarget: { httpMethod: 'POST', ...http }, ...extra };
  return JSON.stringify({ name: `//cloudscheduler.googleapis.com/${name}`, asset_type: 'cloudscheduler.googleapis.com/Job', resource: { version: 'v1', data } });
}

/** A scratch directory, removed by the returned function. */
export function scratch(prefix: string): { dir: string; file: (name: string, text: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `cronwarden-${prefix}-`));
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Characters that move the cursor, clear the screen, forge lines or reorder text on a terminal. */
export const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
