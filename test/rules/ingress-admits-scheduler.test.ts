import rule from '../../rules/ingress-admits-scheduler.js';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { ruleTester } from '../support/rule-tester.js';
import { GEN1_URL, GEN2_RUN_URL, GEN2_URL, ORG, baseWorld, gen1Function, gen2Function, job, project, runService, withRecords } from '../support/builders.js';

const OTHER_ORG = '900000000009';
const OTHER_NUMBER = '400000000004';

/** A project `proj-other` under another organization, and the job `job1` in it. */
function otherOrganizationJob(): AssetRecord[] {
  const ancestors = [`projects/${OTHER_NUMBER}`, `organizations/${OTHER_ORG}`];
  return [
    {
      name: `//cloudresourcemanager.googleapis.com/organizations/${OTHER_ORG}`,
      assetType: 'cloudresourcemanager.googleapis.com/Organization',
      resource: { data: { name: `organizations/${OTHER_ORG}` } },
      ancestors: [`organizations/${OTHER_ORG}`],
      origin: 'test:other-org',
    },
    { ...project('proj-other', OTHER_NUMBER), ancestors },
    { ...job({ project: 'proj-other' }), ancestors },
  ];
}

const internal = (ingress = 'INGRESS_TRAFFIC_INTERNAL_ONLY'): AssetRecord[] => withRecords(baseWorld(), runService({ ingress }));

/** A gen1 function's two records with the given ingress setting. */
function gen1WithIngress(ingressSettings: string): AssetRecord[] {
  return gen1Function().map((r) => ({ ...r, resource: { ...r.resource, data: { ...r.resource!.data, ingressSettings } } }));
}

ruleTester(rule, {
  valid: [
    { name: 'ingress admits all traffic', assets: [...withRecords(baseWorld(), runService({ ingress: 'INGRESS_TRAFFIC_ALL' })), job()] },
    { name: 'no ingress setting: the default admits all', assets: [...baseWorld(), job()] },
    { name: 'internal ingress, job in the same project (v2 shape)', assets: [...internal(), job()] },
    { name: 'internal and load balancing, same project (v1 annotation)', assets: [...withRecords(baseWorld(), runService({ ingress: 'internal-and-cloud-load-balancing', shape: 'v1' })), job()] },
    {
      name: '2nd gen function called on its Run URL, its service internal, same project',
      assets: [...withRecords(baseWorld(), runService({ name: 'fn2', urls: [GEN2_RUN_URL], ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY' })), job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_RUN_URL } })],
    },
    { name: 'a job without a token is judged all the same', assets: [...internal(), job({ oidc: false })] },
    { name: 'job in another organization, target admits all', assets: [...baseWorld(), ...otherOrganizationJob()] },
  ],
  invalid: [
    {
      name: 'internal ingress, job in a project of another organization',
      assets: [...internal(), ...otherOrganizationJob()],
      expect: [{ status: 'fail', messageId: 'otherOrganization', severity: 'high', messageIncludes: [`organizations/${OTHER_ORG}`, `organizations/${ORG}`, 'projects/proj-other'] }],
    },
    {
      name: 'internal ingress, job in another project of the same organization: perimeters are not in the inventory',
      assets: [...internal('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER'), project('proj-beta', '300000000004'), job({ project: 'proj-beta' })],
      expect: [{ status: 'unverifiable', messageId: 'perimeterUnknown', severity: 'medium', messageIncludes: ['projects/proj-beta'] }],
    },
    {
      name: "internal ingress, the job's project is not in the inventory",
      assets: [...internal(), job({ project: 'proj-ghost' })],
      expect: [{ status: 'unverifiable', messageId: 'projectUnknown', severity: 'low' }],
    },
    {
      name: '1st gen function with internal-only ingress',
      assets: [...withRecords(baseWorld(), ...gen1WithIngress('ALLOW_INTERNAL_ONLY')), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'gen1Internal', severity: 'low' }],
    },
    {
      name: '2nd gen function with internal ingress called on its cloudfunctions.net URL',
      assets: [...withRecords(baseWorld(), runService({ name: 'fn2', urls: [GEN2_RUN_URL], ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY' }), gen2Function()), job({ uri: GEN2_URL, oidc: { audience: GEN2_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'viaFunctionsUrl', severity: 'low' }],
    },
    {
      name: 'an ingress value the scanner does not know',
      assets: [...withRecords(baseWorld(), runService({ ingress: 'INGRESS_TRAFFIC_SOMEWHERE' })), job()],
      expect: [{ status: 'unverifiable', messageId: 'unknownIngress', severity: 'low', messageIncludes: ['INGRESS_TRAFFIC_SOMEWHERE'] }],
    },
    {
      // Not silence: the service may well be internal-only, and the job refused for it.
      name: 'a run.app URL whose service is not in the inventory',
      assets: [...baseWorld(), job({ uri: 'https://ghost-zzz999yyy-uc.a.run.app/', oidc: { audience: 'https://ghost-zzz999yyy-uc.a.run.app/' } })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['https://ghost-zzz999yyy-uc.a.run.app/'] }],
    },
  ],
});
