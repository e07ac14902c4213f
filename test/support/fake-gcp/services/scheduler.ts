import protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { messageFromJson, messageToJson, ownField } from '../proto-json.js';
import type { AssetStore, StoredAsset } from '../store.js';
import { checkActAs, checkJob, checkJobMask, mergeMessage, tokenAccounts, type JobUpdateRules } from './job-update.js';

type Json = Record<string, unknown>;

const JOB_TYPE = 'cloudscheduler.googleapis.com/Job';
const JOB_NAME = /^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/;
const PARENT = /^projects\/([^/]+)\/locations\/([^/]+)$/;
/** Output-only fields: values sent in UpdateJob are ignored (job.proto). */
const OUTPUT_ONLY = new Set(['userUpdateTime', 'state', 'status', 'scheduleTime', 'lastAttemptTime']);
const MAX_PAGE = 500;

/** Cloud Scheduler v1 GetJob, ListJobs and UpdateJob over the jobs in the store. */
export class SchedulerService {
  private readonly jobType: protobuf.Type;

  /** Jobs whose next updates fail mid-way, leaving them UPDATE_FAILED (see {@link failUpdates}). */
  private readonly failing = new Map<string, number>();

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly now: () => Date = () => new Date(),
    readonly rules: JobUpdateRules = {},
  ) {
    this.jobType = root.lookupType('google.cloud.scheduler.v1.Job');
  }

  /** The next `times` updates of the job answer DEADLINE_EXCEEDED and leave it UPDATE_FAILED, unchanged otherwise. */
  failUpdates(jobName: string, times: number): void {
    this.failing.set(jobName, times);
  }

  getJob(req: Json): Json {
    return this.encode(this.lookup(String(req.name ?? '')));
  }

  listJobs(req: Json): Json {
    const parent = String(req.parent ?? '');
    const m = PARENT.exec(parent);
    if (!m) fail('INVALID_ARGUMENT', `Invalid parent "${parent}": expected projects/P/locations/L`);
    if (!this.store.hasScope(`projects/${m[1]}`)) fail('PERMISSION_DENIED', `The caller does not have permission on projects/${m[1]}`);
    const jobs = this.byParent().get(`${this.store.canonicalScope(`projects/${m[1]}`)}/locations/${m[2]}`) ?? [];
    const pageSize = Math.min(Number(req.pageSize ?? 0) || MAX_PAGE, MAX_PAGE);
    const offset = req.pageToken ? Number(Buffer.from(String(req.pageToken), 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(offset) || offset < 0) fail('INVALID_ARGUMENT', 'Invalid page token');
    const next = offset + pageSize < jobs.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : '';
    return { jobs: jobs.slice(offset, offset + pageSize).map((a) => this.encode(a)), nextPageToken: next };
  }

  updateJob(req: Json): Json {
    const requested = req.job as Json | null | undefined;
    if (!requested) fail('INVALID_ARGUMENT', 'job is required');
    const asset = this.lookup(String(requested.name ?? ''));
    const incoming = (messageToJson(this.jobType, requested) ?? {}) as Json;
    const stored = asset.resource!.data as Json;
    const paths = ((req.updateMask as { paths?: string[] } | null | undefined)?.paths ?? []).filter(Boolean);
    if (paths.length === 0 && this.rules.requireMask) fail('INVALID_ARGUMENT', 'update_mask is required (this fake runs in strict mode)');
    const mask = paths.length === 0 ? '*' : checkJobMask(this.jobType, paths);
    // Work on a copy: a refused update leaves the job as it was.
    const data = structuredClone(stored);
    if (mask === '*') {
      for (const field of this.jobType.fieldsArray) {
        if (field.name === 'name' || OUTPUT_ONLY.has(field.name)) continue;
        if (incoming[field.name] === undefined) delete data[field.name];
        else data[field.name] = incoming[field.name];
      }
    } else {
      for (const segments of mask) this.applyPath(data, incoming, segments);
    }
    const name = String(stored.name ?? requested.name);
    const projectId = name.split('/')[1]!;
    checkJob(data, projectId, /^projects\/(\d+)$/.exec(this.store.canonicalScope(`projects/${projectId}`))?.[1]);
    // Setting a token (any write to its fields) needs actAs on its account (target.proto).
    const touchesToken = mask === '*' || mask.some((seg) => seg[0] === 'httpTarget' && (seg.length === 1 || seg[1] === 'oidcToken' || seg[1] === 'oauthToken'));
    if (touchesToken) checkActAs(this.rules, tokenAccounts(data));
    const failures = this.failing.get(name) ?? 0;
    this.store.beforeChange(asset);
    if (failures > 0) {
      this.failing.set(name, failures - 1);
      asset.resource!.data = { ...stored, state: 'UPDATE_FAILED' };
      this.store.touch(asset, this.now());
      fail('DEADLINE_EXCEEDED', 'Deadline exceeded while updating the job; it is left UPDATE_FAILED. Retry the update.');
    }
    if (data.state === 'UPDATE_FAILED') data.state = 'ENABLED';
    data.userUpdateTime = this.now().toISOString();
    asset.resource!.data = data;
    this.store.touch(asset, this.now());
    return this.encode(asset);
  }

  /** Copies one mask path from the request to the stored job; setting a oneof member clears its siblings. */
  private applyPath(target: Json, source: Json, segments: string[]): void {
    let type: protobuf.Type = this.jobType;
    let to: Json = target;
    let from: Json | undefined = source;
    for (const [i, segment] of segments.entries()) {
      const field = ownField(type, segment);
      if (!field) fail('INVALID_ARGUMENT', `Invalid update_mask path: unknown field "${segments.slice(0, i + 1).join('.')}"`);
      if (i === 0 && OUTPUT_ONLY.has(segment)) return;
      const value = from?.[segment];
      const last = i === segments.length - 1;
      if (last || !(field.resolve().resolvedType instanceof protobuf.Type)) {
        if (value === undefined) delete to[segment];
        else {
          const isMessage = field.resolvedType instanceof protobuf.Type && !field.map && !field.repeated;
          if (isMessage && to[segment] && typeof to[segment] === 'object') mergeMessage(to[segment] as Json, value as Json, field.resolvedType as protobuf.Type);
          else to[segment] = structuredClone(value);
          for (const sibling of field.partOf?.oneof ?? []) if (sibling !== segment) delete to[sibling];
        }
        return;
      }
      if (value !== undefined) for (const sibling of field.partOf?.oneof ?? []) if (sibling !== segment) delete to[sibling];
      to = (to[segment] ??= {}) as Json;
      from = value as Json | undefined;
      type = field.resolvedType as protobuf.Type;
    }
  }

  private index: { version: number; byParent: Map<string, StoredAsset[]> } | undefined;

  private byParent(): Map<string, StoredAsset[]> {
    if (this.index?.version === this.store.version) return this.index.byParent;
    const byParent = new Map<string, StoredAsset[]>();
    for (const a of this.store.all()) {
      if (a.assetType !== JOB_TYPE || !a.resource?.data) continue;
      const parent = this.jobParent(a);
      const list = byParent.get(parent) ?? [];
      list.push(a);
      byParent.set(parent, list);
    }
    this.index = { version: this.store.version, byParent };
    return byParent;
  }

  private jobParent(a: StoredAsset): string {
    const name = String((a.resource?.data as Json | undefined)?.name ?? a.name.replace(/^\/\/[^/]+\//, ''));
    return this.store.canonicalScope(`projects/${name.split('/')[1]}`) + '/' + name.split('/').slice(2, 4).join('/');
  }

  private lookup(name: string): StoredAsset {
    if (!JOB_NAME.test(name)) fail('INVALID_ARGUMENT', `Invalid job name "${name}"`);
    const asset = this.store.find(name, [JOB_TYPE]).find((a) => a.resource?.data);
    if (!asset) fail('NOT_FOUND', `Job not found: ${name}`);
    return asset;
  }

  private encode(asset: StoredAsset): Json {
    const data = asset.resource!.data as Json;
    return messageFromJson(this.jobType, { ...data, name: data.name ?? asset.name.replace(/^\/\/[^/]+\//, '') })!;
  }
}
