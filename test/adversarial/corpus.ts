/**
 * The hostile corpus shared by the file and API paths: records whose keys are JavaScript's own
 * property names (`__proto__`, `constructor`, `toString`, …) in every place a record has free
 * keys (resource data, labels, annotations, headers), next to a healthy organization.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SAMPLE = 'examples/sample-org';

/** Keys an object inherits or that reach its prototype when assigned: the classic traps. */
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'] as const;

/** An object with every hostile key as an own property, built the way JSON.parse builds it. */
export function hostileObject(value: unknown = 'x'): Record<string, unknown> {
  return JSON.parse(`{${HOSTILE_KEYS.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value)}`).join(',')}}`) as Record<string, unknown>;
}

/** The sample organization's resource records (export NDJSON), parsed. */
export function sampleResources(): Record<string, unknown>[] {
  return readFileSync(join(SAMPLE, 'resources.export.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The sample's records with hostile keys added wherever a record carries free-form maps: in
 * `resource.data` itself, labels, Knative annotations, and a job's HTTP headers. None of the
 * added keys is one the scanner reads, so every verdict must stay as it was.
 */
export function withHostileKeys(records: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return records.map((r) => {
    const copy = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    const resource = copy.resource as { data?: Record<string, unknown> } | undefined;
    const data = resource?.data;
    if (!data) return copy;
    // Inject through JSON so the keys become own properties, as they would from a file.
    const extra = hostileObject({ nested: hostileObject(1) });
    const text = JSON.stringify(data).replace(/^\{/, `{"labels":${JSON.stringify(hostileObject('l'))},"hostile":${JSON.stringify(extra)},`);
    const rebuilt = JSON.parse(text) as Record<string, unknown>;
    const http = rebuilt.httpTarget as Record<string, unknown> | undefined;
    if (http) http.headers = hostileObject('h');
    const metadata = rebuilt.metadata as { annotations?: Record<string, unknown> } | undefined;
    if (metadata?.annotations) Object.assign(metadata.annotations, hostileObject('a'));
    resource!.data = rebuilt;
    return copy;
  });
}

/** The sample organization's serverless listing (`gcloud asset list --format=json`), parsed. */
export function sampleServerless(): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(SAMPLE, 'serverless.list.json'), 'utf8')) as Record<string, unknown>[];
}
