import { describe, expect, it } from 'vitest';
import rule from '../../rules/scheduler-service-agent-has-role.js';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { evaluateRule, ruleTester } from '../support/rule-tester.js';
import {
  NUMBER, PROJECT, SCHEDULER_AGENT, baseWorld, bind, folder, folderPolicy, job, org, orgPolicy, project, projectPolicy, withRecords, without,
} from '../support/builders.js';

const ROLE = 'roles/cloudscheduler.serviceAgent';
const OWNER = bind('roles/owner', 'user:owner@example.com');
const RUN_JOB = `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/etl:run`;
const agentUnbound = (...records: AssetRecord[]): AssetRecord[] => withRecords(baseWorld(), projectPolicy(OWNER), ...records);
const isProjectPolicy = (r: AssetRecord): boolean => r.iamPolicy !== undefined && r.name === projectPolicy().name;
/** An older export: no `ancestors`; the hierarchy only through `resource.parent`, when `parents` is set. */
function olderExport(records: AssetRecord[], parents = true): AssetRecord[] {
  const parentOf = new Map([[project().name, folder().name], [folder().name, org().name]]);
  return records.map(({ ancestors: _dropped, ...r }) => {
    const parent = parentOf.get(r.name);
    return parents && parent && r.resource ? { ...r, resource: { ...r.resource, parent } } : r;
  });
}

ruleTester(rule, {
  valid: [
    { name: 'agent bound on the project (OIDC job)', assets: [...baseWorld(), job()] },
    { name: 'agent bound on the project (OAuth job)', assets: [...baseWorld(), job({ uri: RUN_JOB, oauth: {} })] },
    { name: 'agent bound on the folder', assets: [...agentUnbound(folderPolicy(bind(ROLE, SCHEDULER_AGENT))), job()] },
    { name: 'agent bound on the organization', assets: [...agentUnbound(orgPolicy(bind(ROLE, SCHEDULER_AGENT))), job()] },
    { name: 'member spelled in another case', assets: [...agentUnbound(projectPolicy(bind(ROLE, SCHEDULER_AGENT.replace('serviceAccount:', 'serviceaccount:')))), job()] },
    {
      name: 'project policy missing, but the folder binds the agent',
      assets: [...without(agentUnbound(folderPolicy(bind(ROLE, SCHEDULER_AGENT))), isProjectPolicy), job()],
    },
    {
      name: 'older export without ancestors, chain rebuilt from parents: bound on the organization',
      assets: olderExport([...agentUnbound(orgPolicy(bind(ROLE, SCHEDULER_AGENT))), job()]),
    },
    { name: 'job without a token yields no result', assets: [...agentUnbound(), job({ oidc: false })] },
    { name: 'Pub/Sub job yields no result', assets: [...agentUnbound(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick` })] },
  ],
  invalid: [
    {
      name: 'agent binding missing everywhere',
      assets: [...agentUnbound(), job()],
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high', messageIncludes: [`service-${NUMBER}@gcp-sa-cloudscheduler`, PROJECT] }],
    },
    {
      name: 'agent bound with an IAM condition is not credited',
      assets: [
        ...agentUnbound(projectPolicy(OWNER, { role: ROLE, members: [SCHEDULER_AGENT], condition: { title: 'until-2020', expression: 'request.time < timestamp("2020-01-01T00:00:00Z")' } })),
        job(),
      ],
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high' }],
    },
    {
      name: 'another project’s agent holds the role',
      assets: [...agentUnbound(projectPolicy(OWNER, bind(ROLE, 'serviceAccount:service-999999999999@gcp-sa-cloudscheduler.iam.gserviceaccount.com'))), job()],
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high' }],
    },
    {
      name: 'the agent holds another role only',
      assets: [...agentUnbound(projectPolicy(OWNER, bind('roles/iam.serviceAccountTokenCreator', SCHEDULER_AGENT))), job()],
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high' }],
    },
    {
      name: 'OAuth job, agent binding missing',
      assets: [...agentUnbound(), job({ uri: RUN_JOB, oauth: {} })],
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high' }],
    },
    {
      name: 'older export without ancestors, chain rebuilt from parents: missing everywhere',
      assets: olderExport([...agentUnbound(), job()]),
      expect: [{ status: 'fail', messageId: 'missingRole', severity: 'high' }],
    },
    {
      name: 'older export without ancestors or parents: the folders and organization above are unknown',
      assets: olderExport([...agentUnbound(), job()], false),
      expect: [{ status: 'unverifiable', messageId: 'policyMissing', severity: 'low', messageIncludes: [`projects/${NUMBER}`] }],
    },
    {
      name: 'project policy missing: unverifiable',
      assets: [...without(baseWorld(), isProjectPolicy), job()],
      expect: [{ status: 'unverifiable', messageId: 'policyMissing', severity: 'low', messageIncludes: [`projects/${NUMBER}`] }],
    },
    {
      name: 'project not in the inventory: unverifiable',
      assets: [...without(baseWorld(), (r) => r.name === project().name), job()],
      expect: [{ status: 'unverifiable', messageId: 'projectUnknown', severity: 'low', messageIncludes: [PROJECT] }],
    },
    {
      name: 'job of another project not in the inventory: unverifiable',
      assets: [...baseWorld(), job({ project: 'proj-beta' })],
      expect: [{ status: 'unverifiable', messageId: 'projectUnknown', severity: 'low', messageIncludes: ['proj-beta'] }],
    },
  ],
});

describe('scheduler-service-agent-has-role on jobs without a token', () => {
  it('returns no result at all, even when the agent is unbound', () => {
    expect(evaluateRule(rule, [...agentUnbound(), job({ oidc: false })]).results).toEqual([]);
    expect(evaluateRule(rule, [...agentUnbound(), job({ pubsubTopic: `projects/${PROJECT}/topics/tick` })]).results).toEqual([]);
  });
});
