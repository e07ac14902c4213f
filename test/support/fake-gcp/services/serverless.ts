import type protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { messageFromJson } from '../proto-json.js';
import type { AssetStore } from '../store.js';
import type { PolicyService } from './iam.js';

type Json = Record<string, unknown>;

export const RUN_TYPES = ['run.googleapis.com/Service'] as const;
export const FUNCTION_V1_TYPES = ['cloudfunctions.googleapis.com/CloudFunction'] as const;
export const FUNCTION_V2_TYPES = ['cloudfunctions.googleapis.com/Function'] as const;
/** One function has one policy, whichever API (v1 or v2) and asset type shows it. */
export const FUNCTION_POLICY_TYPES = [...FUNCTION_V2_TYPES, ...FUNCTION_V1_TYPES];

const SERVICE_NAME = /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/;
const FUNCTION_NAME = /^projects\/[^/]+\/locations\/[^/]+\/functions\/[^/]+$/;

const KNATIVE_INGRESS: Record<string, string> = {
  all: 'INGRESS_TRAFFIC_ALL',
  internal: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
  'internal-and-cloud-load-balancing': 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
};

function jsonList(value: unknown): string[] {
  try {
    const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : [];
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** A Knative (v1) Cloud Run service as the v2 API would show it: the fields the scanner reads. */
export function knativeToV2(name: string, data: Json): Json {
  const metadata = (data.metadata ?? {}) as Json;
  const annotations = (metadata.annotations ?? {}) as Json;
  const status = (data.status ?? {}) as Json;
  const urls = jsonList(annotations['run.googleapis.com/urls']);
  const uri = typeof status.url === 'string' ? status.url : urls[0];
  const out: Json = { name, urls, customAudiences: jsonList(annotations['run.googleapis.com/custom-audiences']) };
  if (uri) out.uri = uri;
  const ingress = KNATIVE_INGRESS[String(annotations['run.googleapis.com/ingress'] ?? '')];
  if (ingress) out.ingress = ingress;
  if (String(annotations['run.googleapis.com/invoker-iam-disabled']) === 'true') out.invokerIamDisabled = true;
  return out;
}

/** Cloud Run v2 Services and Cloud Functions v1/v2: get, and IAM through the shared policy service. */
export class ServerlessService {
  private readonly serviceType: protobuf.Type;
  private readonly functionV1Type: protobuf.Type;
  private readonly functionV2Type: protobuf.Type;

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly policies: PolicyService,
  ) {
    this.serviceType = root.lookupType('google.cloud.run.v2.Service');
    this.functionV1Type = root.lookupType('google.cloud.functions.v1.CloudFunction');
    this.functionV2Type = root.lookupType('google.cloud.functions.v2.Function');
  }

  getService(req: Json): Json {
    const name = checkName(String(req.name ?? ''), SERVICE_NAME, 'service');
    const asset = this.store.find(name, RUN_TYPES).find((a) => a.resource?.data);
    if (!asset) fail('NOT_FOUND', `Resource '${name}' of kind 'SERVICE' was not found`);
    const data = asset.resource!.data as Json;
    const v2 = asset.resource!.version === 'v1' || (data.metadata !== undefined && data.uri === undefined) ? knativeToV2(name, data) : { ...data, name };
    return messageFromJson(this.serviceType, v2)!;
  }

  getFunctionV1(req: Json): Json {
    return this.getFunction(String(req.name ?? ''), FUNCTION_V1_TYPES, this.functionV1Type);
  }

  getFunctionV2(req: Json): Json {
    return this.getFunction(String(req.name ?? ''), FUNCTION_V2_TYPES, this.functionV2Type);
  }

  getServicePolicy(req: Json): Json {
    return this.policies.get(checkName(String(req.resource ?? ''), SERVICE_NAME, 'service'), RUN_TYPES, 'Service', req);
  }

  setServicePolicy(req: Json): Json {
    return this.policies.set(checkName(String(req.resource ?? ''), SERVICE_NAME, 'service'), req.policy as Json, RUN_TYPES, 'Service', req);
  }

  getFunctionPolicy(req: Json): Json {
    return this.policies.get(checkName(String(req.resource ?? ''), FUNCTION_NAME, 'function'), FUNCTION_POLICY_TYPES, 'Function', req);
  }

  setFunctionPolicy(req: Json): Json {
    return this.policies.set(checkName(String(req.resource ?? ''), FUNCTION_NAME, 'function'), req.policy as Json, FUNCTION_POLICY_TYPES, 'Function', req);
  }

  /** The google.iam.v1.IAMPolicy mixin (Functions v2 uses it): routed by the resource name. */
  getMixinPolicy(req: Json): Json {
    return SERVICE_NAME.test(String(req.resource ?? '')) ? this.getServicePolicy(req) : this.getFunctionPolicy(req);
  }

  setMixinPolicy(req: Json): Json {
    return SERVICE_NAME.test(String(req.resource ?? '')) ? this.setServicePolicy(req) : this.setFunctionPolicy(req);
  }

  private getFunction(name: string, types: readonly string[], type: protobuf.Type): Json {
    checkName(name, FUNCTION_NAME, 'function');
    const asset = this.store.find(name, types).find((a) => a.resource?.data);
    if (!asset) fail('NOT_FOUND', `Function ${name} does not exist`);
    const data = asset.resource!.data as Json;
    return messageFromJson(type, { ...data, name: data.name ?? name })!;
  }
}

function checkName(name: string, pattern: RegExp, kind: string): string {
  if (!pattern.test(name)) fail('INVALID_ARGUMENT', `Invalid ${kind} name "${name}"`);
  return name;
}
