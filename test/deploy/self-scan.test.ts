import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import type { AssetSource, SourceReport } from '../../src/inventory/source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import type { Finding } from '../../src/findings/schema.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { commandsStartingWith, dryRun, recipeAssets, type RecipeCommand } from './recipe.js';

/** The recipe's own trigger must pass the scanner's own rules: the scanner scans its deployment. */

const SETTINGS = { PROJECT: 'cw-sec-tools', PROJECT_NUMBER: '444444444444', ORG_ID: '123456789012', REGION: 'europe-west1' };
const SCANNER = `serviceAccount:cronwarden-scanner@${SETTINGS.PROJECT}.iam.gserviceaccount.com`;
const TRIGGER = `serviceAccount:cronwarden-trigger@${SETTINGS.PROJECT}.iam.gserviceaccount.com`;

function arraySource(records: AssetRecord[]): AssetSource {
  return {
    description: 'the deploy recipe',
    async read(onRecord): Promise<SourceReport> {
      for (const record of records) onRecord({ ok: true, record });
      return { records: records.length, problems: [], problemCount: 0, gaps: [] };
    },
  };
}

async function scan(records: AssetRecord[]): Promise<{ findings: Finding[]; partial: boolean; jobs: number }> {
  const findings: Finding[] = [];
  const sink: FindingSink = {
    name: 'memory',
    write: (f) => void findings.push(f),
    close: async () => ({ sink: 'memory', delivered: findings.length, failed: 0 }),
  };
  const { summary } = await runScan({ source: arraySource(records), rules: allRules, sinks: [sink], logger: memoryLogger(), includePasses: true });
  return { findings, partial: summary.partial, jobs: summary.jobsScanned };
}

/** Every IAM grant the recipe makes: where, which role, to whom. */
function grants(commands: RecipeCommand[]): { on: string; role: string; member: string }[] {
  return commands
    .filter((c) => c.positionals.includes('add-iam-policy-binding'))
    .map((c) => {
      const verb = c.positionals.indexOf('add-iam-policy-binding');
      return { on: [...c.positionals.slice(1, verb), c.positionals[verb + 1]].join(' '), role: c.flags.role!, member: c.flags.member! };
    });
}

describe('the deploy recipe', () => {
  const commands = dryRun(SETTINGS);

  it('creates a Scheduler job that calls the Run Admin API :run endpoint with an OAuth token', () => {
    const [job, ...more] = commandsStartingWith(commands, 'gcloud', 'scheduler', 'jobs', 'create', 'http');
    expect(more).toEqual([]);
    expect(job!.flags.uri).toBe(`https://run.googleapis.com/v2/projects/${SETTINGS.PROJECT}/locations/${SETTINGS.REGION}/jobs/cronwarden-scan:run`);
    expect(job!.flags['http-method']).toBe('POST');
    expect(job!.flags['oauth-service-account-email']).toBe(TRIGGER.replace('serviceAccount:', ''));
    expect(job!.flags['oauth-token-scope']).toBe('https://www.googleapis.com/auth/cloud-platform');
    expect(job!.flags['oidc-service-account-email']).toBeUndefined();
  });

  it("passes the scanner's own rules: no fail and no unverifiable finding for its trigger", async () => {
    const { findings, partial, jobs } = await scan(recipeAssets(commands, SETTINGS));
    expect(jobs).toBe(1);
    expect(partial).toBe(false);
    const bad = findings.filter((f) => f.status !== 'pass');
    expect(bad.map((f) => `${f.ruleId}: ${f.message}`)).toEqual([]);
    const passed = new Set(findings.map((f) => f.ruleId));
    for (const rule of ['google-api-target-uses-oauth', 'oauth-sa-can-call-target', 'token-sa-exists-and-enabled', 'token-sa-in-job-project', 'scheduler-service-agent-has-role']) {
      expect(passed).toContain(rule);
    }
  });

  it('would be caught by the same scan if the trigger sent an OIDC token instead', async () => {
    const records = recipeAssets(commands, SETTINGS).map((r) => {
      if (r.assetType !== 'cloudscheduler.googleapis.com/Job') return r;
      const data = structuredClone(r.resource!.data!) as { httpTarget: Record<string, unknown> };
      data.httpTarget.oidcToken = { serviceAccountEmail: TRIGGER.replace('serviceAccount:', '') };
      delete data.httpTarget.oauthToken;
      return { ...r, resource: { ...r.resource, data } };
    });
    const { findings } = await scan(records);
    expect(findings.filter((f) => f.status === 'fail').map((f) => f.ruleId)).toContain('google-api-target-uses-oauth');
  });

  it('would be caught by the same scan if the trigger could not run the Cloud Run job', async () => {
    const records = recipeAssets(commands, SETTINGS).map((r) => (r.assetType === 'run.googleapis.com/Job' ? { ...r, iamPolicy: { bindings: [] } } : r));
    const { findings } = await scan(records);
    expect(findings.filter((f) => f.status === 'fail').map((f) => `${f.ruleId}: ${f.message}`)).toEqual([
      expect.stringMatching(/^oauth-sa-can-call-target: cronwarden-trigger@cw-sec-tools\.iam\.gserviceaccount\.com does not hold run\.jobs\.run on projects\/cw-sec-tools\/locations\/europe-west1\/jobs\/cronwarden-scan in any policy/),
    ]);
  });

  it('grants the scanner only cloudasset.viewer on the organization, pubsub.publisher on the topic and datastore.user on its own project', () => {
    expect(grants(commands).filter((g) => g.member === SCANNER)).toEqual([
      { on: `organizations ${SETTINGS.ORG_ID}`, role: 'roles/cloudasset.viewer', member: SCANNER },
      { on: 'pubsub topics cronwarden-findings', role: 'roles/pubsub.publisher', member: SCANNER },
      { on: `projects ${SETTINGS.PROJECT}`, role: 'roles/datastore.user', member: SCANNER },
    ]);
  });

  it('creates the Firestore state database (Native mode) and points the job at it', () => {
    const [create] = commandsStartingWith(commands, 'gcloud', 'firestore', 'databases', 'create');
    expect(create!.flags).toMatchObject({ database: 'cronwarden', type: 'firestore-native', project: SETTINGS.PROJECT });
    const [deploy] = commandsStartingWith(commands, 'gcloud', 'run', 'jobs', 'deploy');
    expect(deploy!.flags['set-env-vars']).toContain(`CRONWARDEN_STATE=firestore://${SETTINGS.PROJECT}/cronwarden/cronwarden`);
  });

  it('grants the trigger only the right to run this one Cloud Run job', () => {
    expect(grants(commands).filter((g) => g.member === TRIGGER)).toEqual([
      { on: 'run jobs cronwarden-scan', role: 'roles/run.invoker', member: TRIGGER },
    ]);
  });

  it('runs the job as the scanner account, with the organization and topic in its environment', () => {
    const [deploy] = commandsStartingWith(commands, 'gcloud', 'run', 'jobs', 'deploy');
    expect(deploy!.flags['service-account']).toBe(SCANNER.replace('serviceAccount:', ''));
    expect(deploy!.flags['set-env-vars']).toBe(
      `CRONWARDEN_ORGS=${SETTINGS.ORG_ID},CRONWARDEN_TOPIC=projects/${SETTINGS.PROJECT}/topics/cronwarden-findings,CRONWARDEN_STATE=firestore://${SETTINGS.PROJECT}/cronwarden/cronwarden`,
    );
  });

  it('adds no remediation role unless asked, and then exactly the permissions remediation uses', () => {
    expect(commandsStartingWith(commands, 'gcloud', 'iam', 'roles')).toEqual([]);
    const withRemediation = dryRun({ ...SETTINGS, REMEDIATION: 'true', REMEDIATION_TOKEN_SAS: 'a@p-one.iam.gserviceaccount.com' });
    const roles = Object.fromEntries(commandsStartingWith(withRemediation, 'gcloud', 'iam', 'roles', 'create').map((c) => [c.positionals[4], c.flags.permissions!.split(',').sort()]));
    expect(roles).toEqual({
      cronwardenRemediator: [
        'cloudfunctions.functions.getIamPolicy',
        'cloudfunctions.functions.setIamPolicy',
        'cloudscheduler.jobs.get',
        'cloudscheduler.jobs.update',
        'run.services.getIamPolicy',
        'run.services.setIamPolicy',
      ],
      cronwardenActAs: ['iam.serviceAccounts.actAs'],
    });
    const remediator = `serviceAccount:cronwarden-remediator@${SETTINGS.PROJECT}.iam.gserviceaccount.com`;
    const actAs = grants(withRemediation).filter((g) => g.role.endsWith('/cronwardenActAs'));
    expect(actAs).toEqual([{ on: 'iam service-accounts a@p-one.iam.gserviceaccount.com', role: `organizations/${SETTINGS.ORG_ID}/roles/cronwardenActAs`, member: remediator }]);
    // Its own account: the scanner stays read-only, and the remediator holds only the remediation roles.
    expect(grants(withRemediation).filter((g) => g.member === SCANNER)).toEqual(grants(commands).filter((g) => g.member === SCANNER));
    expect(grants(withRemediation).filter((g) => g.member === remediator).map((g) => g.role)).toEqual([
      `organizations/${SETTINGS.ORG_ID}/roles/cronwardenRemediator`,
      `organizations/${SETTINGS.ORG_ID}/roles/cronwardenActAs`,
    ]);
    expect(commandsStartingWith(withRemediation, 'gcloud', 'run', 'jobs', 'deploy')).toHaveLength(1);

    const unattended = dryRun({ ...SETTINGS, REMEDIATION: 'true', REMEDIATE_MODE: 'apply', REMEDIATE_RULES: 'oidc-audience-matches-target', REMEDIATE_PROJECTS: 'p-one' });
    const job = commandsStartingWith(unattended, 'gcloud', 'run', 'jobs', 'deploy').find((c) => c.positionals[4] === 'cronwarden-remediate')!;
    expect(job.flags['service-account']).toBe(remediator.replace('serviceAccount:', ''));
    expect(job.flags['set-env-vars']).toContain('CRONWARDEN_REMEDIATE=apply;CRONWARDEN_REMEDIATE_RULES=oidc-audience-matches-target;CRONWARDEN_REMEDIATE_PROJECTS=p-one');
  });

  it('deploys only the Cloud Run job with --only=job, for Cloud Build', () => {
    const only = dryRun(SETTINGS, ['--only=job', '--image=europe-west1-docker.pkg.dev/cw-sec-tools/cronwarden/cronwarden:b1']);
    expect(only.map((c) => c.positionals.slice(0, 4).join(' '))).toEqual(['gcloud run jobs deploy']);
    // By digest: the tag is looked up once, and the job runs exactly the image that was pushed.
    expect(only[0]!.flags.image).toBe('europe-west1-docker.pkg.dev/cw-sec-tools/cronwarden/cronwarden@DIGEST');
  });
});
