import { describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { InventoryBuilder } from '../../src/model/inventory.js';
import type { Target } from '../../src/model/types.js';
import {
  GEN1_URL, GEN2_RUN_URL, GEN2_URL, NUMBER, PROJECT, REGION, RUN_DETERMINISTIC_URL, RUN_URL, baseWorld, job, project, runJob, runName, withRecords, without, workflow,
} from '../support/builders.js';

function resolve(assets: AssetRecord[]): Target {
  const problems: string[] = [];
  const builder = new InventoryBuilder((p) => problems.push(p.message));
  for (const a of assets) builder.add(a);
  const inventory = builder.finish();
  expect(problems).toEqual([]);
  expect(inventory.jobs).toHaveLength(1);
  return inventory.target(inventory.jobs[0]!);
}

const at = (uri: string, assets = baseWorld()): Target => resolve([...assets, job({ uri })]);
const serviceOf = (t: Target): string | undefined => ('service' in t ? t.service?.name : undefined);
const fnOf = (t: Target): string | undefined => ('fn' in t ? t.fn.name : undefined);
const svc = (name: string): string => `projects/${PROJECT}/locations/${REGION}/services/${name}`;
const fn = (name: string): string => `projects/${PROJECT}/locations/${REGION}/functions/${name}`;

/** A v1 Knative record as older exports have it: only `status.url`, no `run.googleapis.com/urls`. */
function knativeStatusUrlOnly(url = RUN_URL): AssetRecord {
  return {
    name: runName('svc'),
    assetType: 'run.googleapis.com/Service',
    resource: {
      version: 'v1',
      data: {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: { name: 'svc', namespace: NUMBER, annotations: { 'run.googleapis.com/ingress': 'all' } },
        status: { url, address: { url } },
      },
    },
    origin: 'test:knative',
  };
}

function appEngineJob(): AssetRecord {
  const name = `projects/${PROJECT}/locations/${REGION}/jobs/gae`;
  return {
    name: `//cloudscheduler.googleapis.com/${name}`,
    assetType: 'cloudscheduler.googleapis.com/Job',
    resource: {
      version: 'v1',
      data: { name, state: 'ENABLED', appEngineHttpTarget: { httpMethod: 'POST', relativeUri: '/tasks/cleanup', appEngineRouting: { service: 'worker' } } },
    },
    origin: 'test:gae',
  };
}

describe('resolveTarget', () => {
  describe('Cloud Run', () => {
    it('by the hash URL, with a path', () => {
      const t = at(`${RUN_URL}/run`);
      expect(t).toMatchObject({ kind: 'cloud-run', url: `${RUN_URL}/run` });
      expect(serviceOf(t)).toBe(svc('svc'));
    });

    it('by the deterministic URL listed in urls', () => {
      const t = at(`${RUN_DETERMINISTIC_URL}/run`);
      expect(t.kind).toBe('cloud-run');
      expect(serviceOf(t)).toBe(svc('svc'));
    });

    it('by the deterministic URL when the v1 record has only status.url', () => {
      const t = at(`${RUN_DETERMINISTIC_URL}/run`, withRecords(baseWorld(), knativeStatusUrlOnly()));
      expect(t.kind).toBe('cloud-run');
      expect(serviceOf(t)).toBe(svc('svc'));
    });

    it('by the hash URL from a v1 record with only status.url', () => {
      expect(serviceOf(at(RUN_URL, withRecords(baseWorld(), knativeStatusUrlOnly())))).toBe(svc('svc'));
    });

    it('by a host written in upper case', () => {
      expect(serviceOf(at(RUN_URL.replace('svc-a1b2c3d4e5-uc', 'SVC-A1B2C3D4E5-UC')))).toBe(svc('svc'));
    });

    it('a deterministic URL whose project number the inventory does not know stays unknown', () => {
      const t = at(`https://svc-999999999999.${REGION}.run.app`);
      expect(t).toMatchObject({ kind: 'unknown-run' });
    });

    it('a deterministic URL in another region stays unknown', () => {
      expect(at(`https://svc-${NUMBER}.europe-west1.run.app`).kind).toBe('unknown-run');
    });

    it('a deterministic URL is unknown when the project asset is missing and the URL is not listed', () => {
      const assets = withRecords(without(baseWorld(), (r) => r.name === project().name && !r.iamPolicy), knativeStatusUrlOnly());
      expect(at(RUN_DETERMINISTIC_URL, assets).kind).toBe('unknown-run');
    });

    it('an unknown run.app host', () => {
      const t = at('https://ghost-zz9yy8-uc.a.run.app/x');
      expect(t).toMatchObject({ kind: 'unknown-run', url: 'https://ghost-zz9yy8-uc.a.run.app/x' });
      expect(t.kind === 'unknown-run' && t.reason).toContain('ghost-zz9yy8-uc.a.run.app');
    });
  });

  describe('Cloud Functions', () => {
    it('gen1 by its cloudfunctions.net URL', () => {
      const t = at(GEN1_URL);
      expect(t).toMatchObject({ kind: 'function-gen1', url: GEN1_URL });
      expect(fnOf(t)).toBe(fn('fn1'));
    });

    it('gen1 by its URL with an extra path and query', () => {
      const t = at(`${GEN1_URL}/batch/run?dry_run=false`);
      expect(t.kind).toBe('function-gen1');
      expect(fnOf(t)).toBe(fn('fn1'));
    });

    it('gen1 by its URL with a trailing slash', () => {
      expect(fnOf(at(`${GEN1_URL}/`))).toBe(fn('fn1'));
    });

    it('gen2 by its cloudfunctions.net URL, with its Run service', () => {
      const t = at(GEN2_URL);
      expect(t).toMatchObject({ kind: 'function-gen2', via: 'cloudfunctions-url' });
      expect(fnOf(t)).toBe(fn('fn2'));
      expect(serviceOf(t)).toBe(svc('fn2'));
    });

    it('gen2 by its Run URL, with its Run service', () => {
      const t = at(`${GEN2_RUN_URL}/sync`);
      expect(t).toMatchObject({ kind: 'function-gen2', via: 'run-url' });
      expect(fnOf(t)).toBe(fn('fn2'));
      expect(serviceOf(t)).toBe(svc('fn2'));
    });

    it('gen2 by the deterministic URL of its Run service', () => {
      const t = at(`https://fn2-${NUMBER}.${REGION}.run.app`);
      expect(t).toMatchObject({ kind: 'function-gen2', via: 'run-url' });
      expect(serviceOf(t)).toBe(svc('fn2'));
    });

    it('gen2 whose Run service is missing: the function, without a service', () => {
      const assets = without(baseWorld(), (r) => r.name === runName('fn2'));
      const byCf = at(GEN2_URL, assets);
      expect(byCf).toMatchObject({ kind: 'function-gen2', via: 'cloudfunctions-url' });
      expect(serviceOf(byCf)).toBeUndefined();
      const byRun = at(GEN2_RUN_URL, assets);
      expect(byRun).toMatchObject({ kind: 'function-gen2', via: 'run-url' });
      expect(serviceOf(byRun)).toBeUndefined();
    });

    it('an unknown function on a known host', () => {
      const t = at(`https://${REGION}-${PROJECT}.cloudfunctions.net/nope`);
      expect(t).toMatchObject({ kind: 'unknown-function' });
      expect(t.kind === 'unknown-function' && t.reason).toContain(`${REGION}-${PROJECT}.cloudfunctions.net/nope`);
    });

    it('an unknown cloudfunctions.net host', () => {
      expect(at('https://europe-west1-other-proj.cloudfunctions.net/x').kind).toBe('unknown-function');
    });

    it('a cloudfunctions.net host without a function name', () => {
      expect(at(`https://${REGION}-${PROJECT}.cloudfunctions.net/`).kind).toBe('unknown-function');
    });
  });

  describe('other HTTP targets', () => {
    it('a Google API on *.googleapis.com', () => {
      expect(at(`https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/etl:run`)).toMatchObject({ kind: 'google-api', host: 'run.googleapis.com' });
      expect(at(`https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${NUMBER}/jobs/etl:run`)).toMatchObject({
        kind: 'google-api',
        host: `${REGION}-run.googleapis.com`,
      });
    });

    it('the Cloud Run job or workflow a Google API call acts on', () => {
      const assets = [...baseWorld(), runJob(), workflow()];
      const etl = `projects/${PROJECT}/locations/${REGION}/jobs/etl`;
      expect(at(`https://run.googleapis.com/v2/${etl}:run`, assets)).toMatchObject({ call: { kind: 'run-job', location: REGION, id: 'etl', resource: { name: etl } } });
      expect(at(`https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${NUMBER}/jobs/etl:run`, assets)).toMatchObject({ call: { resource: { name: etl } } });
      const global = at(`https://run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/etl:run`, assets);
      expect(global).toMatchObject({ call: { resource: { name: etl } } });
      expect(global.kind === 'google-api' && global.call).not.toHaveProperty('location');
      expect(at(`https://workflowexecutions.googleapis.com/v1/projects/${PROJECT}/locations/${REGION}/workflows/wf/executions`, assets)).toMatchObject({
        call: { kind: 'workflow', resource: { name: `projects/${PROJECT}/locations/${REGION}/workflows/wf` } },
      });
      const missing = at(`https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/other:run`, assets);
      expect(missing).toMatchObject({ kind: 'google-api', call: { kind: 'run-job', id: 'other' } });
      expect(missing.kind === 'google-api' && missing.call?.resource).toBeUndefined();
      expect(at(`https://run.googleapis.com/v2/${etl}`, assets)).not.toHaveProperty('call');
      expect(at(`https://bigquery.googleapis.com/bigquery/v2/projects/${PROJECT}/jobs`, assets)).not.toHaveProperty('call');
    });

    it('an App Engine app on appspot.com', () => {
      expect(at(`https://${PROJECT}.appspot.com/tasks`)).toMatchObject({ kind: 'app-engine', url: `https://${PROJECT}.appspot.com/tasks` });
    });

    it('an external host, including look-alikes of Google domains', () => {
      expect(at('https://hooks.example.com/x')).toMatchObject({ kind: 'external', host: 'hooks.example.com' });
      expect(at('https://run.app.example.com/x').kind).toBe('external');
      expect(at('https://evilgoogleapis.com/x').kind).toBe('external');
      expect(at('https://cloudfunctions.net.example.com/x').kind).toBe('external');
    });

    it('an invalid URI', () => {
      expect(at('not a uri')).toEqual({ kind: 'invalid-uri', url: 'not a uri' });
      expect(at('ftp://files.example.com/x')).toEqual({ kind: 'invalid-uri', url: 'ftp://files.example.com/x' });
    });
  });

  describe('traffic-tag URLs', () => {
    it('resolve to their service, listed or not, hash or deterministic form', () => {
      const tagged = `https://beta---${new URL(RUN_URL).host}`;
      expect(serviceOf(at(`${tagged}/x`))).toBe(svc('svc'));
      expect(serviceOf(at(`https://beta---svc-${NUMBER}.${REGION}.run.app/x`))).toBe(svc('svc'));
      expect(serviceOf(at(`https://canary---fn2-${NUMBER}.${REGION}.run.app`))).toBe(svc('fn2'));
      expect(at('https://beta---ghost-zz9yy8-uc.a.run.app').kind).toBe('unknown-run');
    });
  });

  describe('non-HTTP targets', () => {
    it('Pub/Sub', () => {
      expect(resolve([...baseWorld(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick` })])).toEqual({ kind: 'pubsub', topic: `projects/${PROJECT}/topics/tick` });
    });

    it('App Engine HTTP target', () => {
      expect(resolve([...baseWorld(), appEngineJob()])).toEqual({ kind: 'app-engine' });
    });
  });
});
