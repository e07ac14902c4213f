import { toAssetRecord, type AssetRecord, type IamPolicyJson } from '../inventory/asset-record.js';
import type { AssetSource } from '../inventory/source.js';
import { ASSET_TYPES, containerAssetName } from '../model/asset-types.js';
import { InventoryBuilder, type Inventory } from '../model/inventory.js';
import type { ScheduledJob, Target } from '../model/types.js';
import { judgeJob } from '../engine/judge.js';
import type { Rule } from '../engine/define-rule.js';
import type { Finding } from '../findings/schema.js';
import type { ContextAsset } from './plan-schema.js';

/**
 * A source that hands every record on and keeps the non-job ones (targets, policies,
 * containers), so a plan can carry what the scan knew about each target. Jobs are not deferred:
 * the planner needs each failing job's own fields.
 */
export class RecordingSource implements AssetSource {
  readonly kept = new Map<string, AssetRecord[]>();
  constructor(private readonly inner: AssetSource) {}
  get description(): string {
    return this.inner.description;
  }
  read(onRecord: Parameters<AssetSource['read']>[0]) {
    return this.inner.read((r) => {
      if (r.ok && r.record.assetType !== ASSET_TYPES.job) {
        const list = this.kept.get(r.record.name) ?? [];
        list.push(r.record);
        this.kept.set(r.record.name, list);
      }
      onRecord(r);
    });
  }
}

/** The asset names a target's verdicts depend on: its resources and the containers above them. */
export function contextNames(inventory: Inventory, target: Target): string[] {
  const names: string[] = [];
  const add = (r: { source: { assetName: string }; project: string; ancestors?: string[] }): void => {
    names.push(r.source.assetName);
    for (const a of inventory.ancestorsOf(r) ?? []) names.push(containerAssetName(a));
  };
  if (target.kind === 'cloud-run') add(target.service);
  if (target.kind === 'function-gen1') add(target.fn);
  if (target.kind === 'function-gen2') {
    add(target.fn);
    if (target.service) add(target.service);
  }
  // Custom roles named in those policies: without them a re-judge could not tell what they grant
  // (a DISABLED role grants nothing), and the finding would seem to no longer hold.
  for (const name of [...names]) {
    for (const b of inventory.policy(name)?.bindings ?? []) {
      if (/^(projects|organizations)\/[^/]+\/roles\/[^/]+$/.test(b.role)) names.push(`//iam.googleapis.com/${b.role}`);
    }
  }
  return [...new Set(names)];
}

/** A record as the plan keeps it: the envelope without where it was read from. */
export function contextAsset(r: AssetRecord): ContextAsset {
  const out: ContextAsset = { name: r.name, assetType: r.assetType };
  if (r.resource) out.resource = r.resource as Record<string, unknown>;
  if (r.iamPolicy) out.iamPolicy = r.iamPolicy as Record<string, unknown>;
  if (r.ancestors) out.ancestors = r.ancestors;
  return out;
}

function drop(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.length > 0 ? Buffer.from(value).toString('base64') : undefined;
  if (Array.isArray(value)) return value.map(drop).filter((v) => v !== undefined);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const d = drop(v);
      if (d !== undefined) out[k] = d;
    }
    return out;
  }
  return value;
}

/** The job a Scheduler client returned, as a Cloud Asset record (REST JSON under `resource.data`). */
export function liveJobRecord(job: Record<string, unknown>): AssetRecord {
  const data = drop(job) as Record<string, unknown>;
  // The client's oneof helper fields (`target`, `authorizationHeader`) name a field; they are not fields.
  delete data.target;
  if (data.httpTarget && typeof data.httpTarget === 'object') delete (data.httpTarget as Record<string, unknown>).authorizationHeader;
  const name = String(data.name);
  return { name: `//cloudscheduler.googleapis.com/${name}`, assetType: ASSET_TYPES.job, resource: { version: 'v1', data }, origin: `live GetJob ${name}` };
}

/** A policy a client returned, as the IamPolicyJson the model reads. */
export function livePolicyJson(policy: { version?: number | null; bindings?: unknown; etag?: unknown } | undefined): IamPolicyJson {
  const bindings = ((policy?.bindings as { role?: string; members?: string[]; condition?: { expression?: string; title?: string } | null }[] | undefined) ?? []).map(
    (b) => ({ role: String(b.role ?? ''), members: [...(b.members ?? [])], ...(b.condition ? { condition: { expression: b.condition.expression ?? '', title: b.condition.title ?? '' } } : {}) }),
  );
  return { bindings, version: Number(policy?.version ?? 1) };
}

/**
 * Judges one rule on one job as the live APIs show it now: the job (GetJob), and optionally a
 * resource's live policy in place of the plan's, with the plan's context for everything else.
 */
export function judgeLive(args: {
  rule: Rule;
  job: AssetRecord;
  context: readonly ContextAsset[];
  livePolicy?: { assetNames: readonly string[]; policy: IamPolicyJson };
}): { job: ScheduledJob | undefined; inventory: Inventory; findings: Finding[] } {
  const problems: string[] = [];
  const builder = new InventoryBuilder((p) => problems.push(p.message));
  builder.add(args.job);
  for (const [i, asset] of args.context.entries()) {
    const live = args.livePolicy?.assetNames.includes(asset.name) && asset.iamPolicy !== undefined;
    const value = live ? { ...asset, iamPolicy: args.livePolicy!.policy } : asset;
    const r = toAssetRecord(structuredClone(value), `plan context[${i}]`);
    if (r.ok) builder.add(r.record);
  }
  // A resource that had no policy record in the plan gets the live one all the same.
  for (const name of args.livePolicy?.assetNames ?? []) {
    if (args.context.some((a) => a.name === name && a.iamPolicy !== undefined)) continue;
    const type = args.context.find((a) => a.name === name)?.assetType;
    if (type) builder.add({ name, assetType: type, iamPolicy: args.livePolicy!.policy, origin: 'live getIamPolicy' });
  }
  const inventory = builder.finish();
  const job = inventory.jobs[0];
  if (!job) return { job: undefined, inventory, findings: [] };
  return { job, inventory, findings: judgeJob(job, inventory, [args.rule], { scanId: 'live-recheck', observedAt: new Date().toISOString() }) };
}
