import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AssetRecord, IamBindingJson } from '../../src/inventory/asset-record.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** One gcloud command the deploy script would run: its words, positionals and `--flag=value` flags. */
export interface RecipeCommand {
  words: string[];
  /** The command path and positionals, e.g. `gcloud scheduler jobs create http NAME`. */
  positionals: string[];
  flags: Record<string, string>;
}

/** Splits a line as the shell would: plain words and single-quoted words (what deploy.sh prints). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unterminated quote in: ${line}`);
      current += line.slice(i + 1, end);
      started = true;
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (c === ' ') {
      if (started) words.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) words.push(current);
  return words;
}

export function parseCommand(line: string): RecipeCommand {
  const words = shellWords(line);
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (const w of words) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(w);
    if (m) flags[m[1]!] = m[2] ?? 'true';
    else positionals.push(w);
  }
  return { words, positionals, flags };
}

/** Runs `deploy/deploy.sh --dry-run` with the given settings and returns the commands it prints. */
export function dryRun(settings: Record<string, string>, args: string[] = []): RecipeCommand[] {
  const out = execFileSync('bash', ['deploy/deploy.sh', '--dry-run', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString('utf8');
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map(parseCommand);
}

export function commandsStartingWith(commands: RecipeCommand[], ...prefix: string[]): RecipeCommand[] {
  return commands.filter((c) => prefix.every((p, i) => c.positionals[i] === p));
}

export interface RecipeSettings {
  PROJECT: string;
  PROJECT_NUMBER: string;
  ORG_ID: string;
  REGION: string;
}

/**
 * The Cloud Asset Inventory records of what the recipe creates and that the rules read: the
 * Scheduler job, the Cloud Run job it runs, its project and organization with the IAM bindings
 * the recipe adds, and the service accounts. Built from the recipe's own commands, so the scan sees what would be
 * deployed, not a hand-written copy of it.
 */
export function recipeAssets(commands: RecipeCommand[], s: RecipeSettings): AssetRecord[] {
  const origin = 'deploy/deploy.sh --dry-run';
  const ancestors = [`projects/${s.PROJECT_NUMBER}`, `organizations/${s.ORG_ID}`];
  const records: AssetRecord[] = [];
  const bindingsOf = (kind: 'projects' | 'organizations'): IamBindingJson[] => {
    const byRole = new Map<string, string[]>();
    for (const c of commandsStartingWith(commands, 'gcloud', kind, 'add-iam-policy-binding')) {
      const members = byRole.get(c.flags.role!) ?? [];
      members.push(c.flags.member!);
      byRole.set(c.flags.role!, members);
    }
    return [...byRole].map(([role, members]) => ({ role, members }));
  };

  records.push({
    name: `//cloudresourcemanager.googleapis.com/organizations/${s.ORG_ID}`,
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    resource: { version: 'v1', data: { name: `organizations/${s.ORG_ID}`, lifecycleState: 'ACTIVE' } },
    iamPolicy: { bindings: bindingsOf('organizations') },
    ancestors: [`organizations/${s.ORG_ID}`],
    origin,
  });
  records.push({
    name: `//cloudresourcemanager.googleapis.com/projects/${s.PROJECT_NUMBER}`,
    assetType: 'cloudresourcemanager.googleapis.com/Project',
    resource: {
      version: 'v1',
      parent: `//cloudresourcemanager.googleapis.com/organizations/${s.ORG_ID}`,
      data: { projectNumber: s.PROJECT_NUMBER, projectId: s.PROJECT, lifecycleState: 'ACTIVE' },
    },
    iamPolicy: { bindings: bindingsOf('projects') },
    ancestors,
    origin,
  });
  for (const [i, c] of commandsStartingWith(commands, 'gcloud', 'iam', 'service-accounts', 'create').entries()) {
    const project = c.flags.project!;
    records.push({
      name: `//iam.googleapis.com/projects/${project}/serviceAccounts/10000000000000000000${i}`,
      assetType: 'iam.googleapis.com/ServiceAccount',
      resource: { version: 'v1', data: { email: `${c.positionals[4]}@${project}.iam.gserviceaccount.com`, projectId: project, disabled: false } },
      ancestors,
      origin,
    });
  }
  // The Cloud Run jobs the recipe deploys, with the bindings it adds on each: what its trigger runs.
  for (const c of commandsStartingWith(commands, 'gcloud', 'run', 'jobs', 'deploy')) {
    const jobId = c.positionals[4]!;
    const name = `projects/${c.flags.project}/locations/${c.flags.region}/jobs/${jobId}`;
    const byRole = new Map<string, string[]>();
    for (const b of commandsStartingWith(commands, 'gcloud', 'run', 'jobs', 'add-iam-policy-binding', jobId)) {
      byRole.set(b.flags.role!, [...(byRole.get(b.flags.role!) ?? []), b.flags.member!]);
    }
    records.push({
      name: `//run.googleapis.com/${name}`,
      assetType: 'run.googleapis.com/Job',
      resource: { version: 'v2', data: { name, launchStage: 'GA' } },
      iamPolicy: { bindings: [...byRole].map(([role, members]) => ({ role, members })) },
      ancestors,
      origin,
    });
  }
  for (const c of commandsStartingWith(commands, 'gcloud', 'scheduler', 'jobs', 'create', 'http')) {
    const name = `projects/${c.flags.project}/locations/${c.flags.location}/jobs/${c.positionals[5]}`;
    const httpTarget: Record<string, unknown> = { uri: c.flags.uri, httpMethod: c.flags['http-method'] ?? 'POST' };
    if (c.flags['oauth-service-account-email']) {
      httpTarget.oauthToken = { serviceAccountEmail: c.flags['oauth-service-account-email'], scope: c.flags['oauth-token-scope'] };
    }
    if (c.flags['oidc-service-account-email']) {
      httpTarget.oidcToken = { serviceAccountEmail: c.flags['oidc-service-account-email'], audience: c.flags['oidc-token-audience'] };
    }
    records.push({
      name: `//cloudscheduler.googleapis.com/${name}`,
      assetType: 'cloudscheduler.googleapis.com/Job',
      resource: { version: 'v1', data: { name, state: 'ENABLED', schedule: c.flags.schedule, timeZone: c.flags['time-zone'], httpTarget } },
      ancestors,
      origin,
    });
  }
  return records;
}
