import { describe, expect, it } from 'vitest';
import { parseScanConfig } from '../../src/config/config.js';
import { commandsStartingWith, dryRun } from './recipe.js';

const SETTINGS = { PROJECT: 'cw-sec-tools', PROJECT_NUMBER: '444444444444', ORG_ID: '123456789012', REGION: 'europe-west1' };
const SCANNER = `serviceAccount:cronwarden-scanner@${SETTINGS.PROJECT}.iam.gserviceaccount.com`;
const VIEW = `projects/${SETTINGS.PROJECT}/locations/global/buckets/cronwarden-scheduler/views/scanner`;

function scannerGrants(settings: Record<string, string>): string[] {
  return dryRun({ ...SETTINGS, ...settings })
    .filter((c) => c.positionals.includes('add-iam-policy-binding') && c.flags.member === SCANNER)
    .map((c) => `${c.positionals.slice(1, c.positionals.indexOf('add-iam-policy-binding')).join(' ')} ${c.flags.role}`);
}

function jobEnv(settings: Record<string, string>): Record<string, string> {
  const [deploy] = commandsStartingWith(dryRun({ ...SETTINGS, ...settings }), 'gcloud', 'run', 'jobs', 'deploy');
  return Object.fromEntries(deploy!.flags['set-env-vars']!.split(',').map((kv) => kv.split('=') as [string, string]));
}

describe('the deploy recipe and the evidence beyond the inventory', () => {
  it('offers an aggregated sink into a bucket and grants the scanner only logging.viewAccessor on its view', () => {
    const commands = dryRun({ ...SETTINGS, ATTEMPTS: 'sink' });
    const [sink] = commandsStartingWith(commands, 'gcloud', 'logging', 'sinks', 'create');
    expect(sink!.positionals[5]).toBe(`logging.googleapis.com/projects/${SETTINGS.PROJECT}/locations/global/buckets/cronwarden-scheduler`);
    expect(sink!.flags).toMatchObject({ organization: SETTINGS.ORG_ID, 'include-children': 'true' });
    expect(sink!.flags['log-filter']).toContain('log_id("cloudscheduler.googleapis.com/executions")');
    expect(commandsStartingWith(commands, 'gcloud', 'logging', 'buckets', 'create')).toHaveLength(1);
    expect(commandsStartingWith(commands, 'gcloud', 'logging', 'views', 'create')).toHaveLength(1);
    expect(scannerGrants({ ATTEMPTS: 'sink' })).toEqual(['organizations roles/cloudasset.viewer', 'pubsub topics roles/pubsub.publisher', 'projects roles/datastore.user', 'logging views roles/logging.viewAccessor']);
    const env = jobEnv({ ATTEMPTS: 'sink' });
    expect(env.CRONWARDEN_ATTEMPTS_FROM).toBe(VIEW);
    // What the recipe sets, the scanner accepts.
    expect(parseScanConfig({}, env, { format: 'jsonl' })).toMatchObject({ attemptsFrom: VIEW, attemptsWindow: '7d' });
  });

  it('grants logging.viewer on the organization where the scan reads projects', () => {
    expect(scannerGrants({ ATTEMPTS: 'projects' })).toContain('organizations roles/logging.viewer');
    expect(jobEnv({ ATTEMPTS: 'projects' }).CRONWARDEN_ATTEMPTS_FROM).toBe('projects');
  });

  it('turns on group resolution without any IAM grant: the Groups Reader role is an Admin console step', () => {
    expect(scannerGrants({ RESOLVE_GROUPS: 'true' })).toEqual(['organizations roles/cloudasset.viewer', 'pubsub topics roles/pubsub.publisher', 'projects roles/datastore.user']);
    expect(jobEnv({ RESOLVE_GROUPS: 'true' }).CRONWARDEN_RESOLVE_GROUPS).toBe('true');
  });

  it('adds nothing for the evidence by default', () => {
    expect(Object.keys(jobEnv({}))).toEqual(['CRONWARDEN_ORGS', 'CRONWARDEN_TOPIC', 'CRONWARDEN_STATE']);
    expect(commandsStartingWith(dryRun(SETTINGS), 'gcloud', 'logging')).toEqual([]);
  });
});
