import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dryRun } from './recipe.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args?: string[];
  env?: string[];
  waitFor?: string[];
}
interface BuildConfig {
  substitutions?: Record<string, string>;
  options?: { dynamicSubstitutions?: boolean };
  steps: Step[];
  images?: string[];
}

const text = readFileSync(join(REPO, 'cloudbuild.yaml'), 'utf8');
const config = parse(text) as BuildConfig;
const stepById = (id: string): Step => {
  const step = config.steps.find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
};

/** Cloud Build's built-in substitutions (build/docs/configuring-builds/substitute-variable-values). */
const BUILT_INS = new Set([
  'PROJECT_ID', 'BUILD_ID', 'PROJECT_NUMBER', 'LOCATION', 'TRIGGER_NAME', 'COMMIT_SHA', 'REVISION_ID', 'SHORT_SHA',
  'REPO_NAME', 'REPO_FULL_NAME', 'BRANCH_NAME', 'TAG_NAME', 'REF_NAME', 'TRIGGER_BUILD_CONFIG_PATH', 'SERVICE_ACCOUNT_EMAIL', 'SERVICE_ACCOUNT',
]);

/** Every `$NAME` / `${NAME}` in a string, `$$` (a literal dollar) excepted. */
function variables(value: string): string[] {
  return [...value.replace(/\$\$/g, '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!);
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('cloudbuild.yaml', () => {
  it('runs test, build, push and deploy, each after the one before', () => {
    expect(config.steps.map((s) => s.id)).toEqual(['node-runtime', 'test', 'build', 'push', 'deploy']);
    config.steps.forEach((step, i) => {
      if (i === 0) return;
      expect(step.waitFor, `step ${step.id}`).toEqual([config.steps[i - 1]!.id]);
    });
  });

  it('declares every user substitution it uses, and uses every one it declares', () => {
    const declared = Object.keys(config.substitutions ?? {});
    for (const name of declared) expect(name, 'user substitutions start with _').toMatch(/^_[A-Z0-9_]+$/);
    const used = new Set(strings({ steps: config.steps, images: config.images, substitutions: config.substitutions }).flatMap(variables));
    for (const name of used) {
      if (name.startsWith('_')) expect(declared, `${name} is used but not declared`).toContain(name);
      else expect(BUILT_INS.has(name), `${name} is not a built-in substitution`).toBe(true);
    }
    for (const name of declared) expect(used.has(name), `${name} is declared but never used`).toBe(true);
    // A substitution whose default refers to another needs dynamic substitutions.
    const nested = Object.values(config.substitutions ?? {}).some((v) => variables(String(v)).length > 0);
    if (nested) expect(config.options?.dynamicSubstitutions).toBe(true);
  });

  it('tests on Node 24 with the Pub/Sub emulator: Node copied from the Node image into the emulators image', () => {
    const resolve = (name: string): string => name.replace(/\$\{?(_[A-Z0-9_]+)\}?/g, (_, n: string) => config.substitutions![n]!);
    expect(resolve(stepById('node-runtime').name)).toMatch(/^node:24([.-]|$)/);
    expect(resolve(stepById('test').name)).toMatch(/google-cloud-cli:emulators$/);
    expect(stepById('node-runtime').args!.join(' ')).toContain('/workspace/.node');
    const script = readFileSync(join(REPO, stepById('test').args![0]!), 'utf8');
    expect(script).toContain('PATH="$node_home/bin:$PATH"');
    expect(script).toContain('/workspace/.node');
    expect(script).toContain('bash .ci/run');
  });

  it('takes the project, region and repository as substitutions', () => {
    expect(Object.keys(config.substitutions ?? {})).toEqual(expect.arrayContaining(['_PROJECT', '_REGION', '_REPOSITORY']));
    expect(config.substitutions!._PROJECT).toBe('${PROJECT_ID}');
  });

  it('builds, pushes, deploys and lists one and the same image, in the Artifact Registry repository', () => {
    const tag = stepById('build').args!.find((a) => a.startsWith('--tag='))!.slice('--tag='.length);
    expect(tag).toBe('${_REGION}-docker.pkg.dev/${_PROJECT}/${_REPOSITORY}/${_IMAGE}:${BUILD_ID}');
    expect(stepById('push').args).toEqual(['push', tag]);
    expect(stepById('deploy').args).toContain(`--image=${tag}`);
    expect(config.images).toEqual([tag]);
  });

  it('refers only to files that exist: the Dockerfile and context, the CI script, the deploy script', () => {
    const build = stepById('build').args!;
    const dockerfile = build.find((a) => a.startsWith('--file='))!.slice('--file='.length);
    expect(existsSync(join(REPO, dockerfile))).toBe(true);
    expect(statSync(join(REPO, build.at(-1)!)).isDirectory()).toBe(true);
    for (const id of ['test', 'deploy']) {
      const step = stepById(id);
      expect(step.entrypoint).toBe('bash');
      const script = step.args![0]!;
      expect(existsSync(join(REPO, script)), `${id}: ${script}`).toBe(true);
    }
  });

  it('passes the deploy script only settings it reads, and the organization it needs', () => {
    const script = readFileSync(join(REPO, 'deploy/deploy.sh'), 'utf8');
    const deploy = stepById('deploy');
    expect(deploy.args).toContain('--only=job');
    for (const pair of deploy.env ?? []) {
      const name = pair.slice(0, pair.indexOf('='));
      expect(script, `deploy.sh does not read ${name}`).toContain(`${name}="\${${name}:-`);
    }
    expect((deploy.env ?? []).map((p) => p.split('=')[0])).toEqual(expect.arrayContaining(['PROJECT', 'REGION', 'ORG_ID']));
  });
});

describe('deploy/deploy.sh and cloudbuild.yaml agree on the image', () => {
  /** A cloudbuild.yaml string with the substitutions' defaults and these values put in. */
  const substitute = (value: string, values: Record<string, string>): string =>
    value.replace(/\$\{([A-Z_]+)\}/g, (_m, name: string) => values[name] ?? config.substitutions?.[name] ?? `\${${name}}`);
  const PROJECT = 'cw-sec-tools';
  const values = { _PROJECT: PROJECT, PROJECT_ID: PROJECT, BUILD_ID: 'b-42', _ORG_ID: '123456789012' };
  const pushed = substitute(stepById('push').args!.at(-1)!, values);
  const repositoryOf = (ref: string): string => ref.replace(/(@sha256:.*|@DIGEST|:[^/:]+)$/, '');

  it('the script deploys what Cloud Build pushed, by digest, with no PROJECT of its own', () => {
    const deployArgs = stepById('deploy').args!.map((a) => substitute(a, values));
    const env = Object.fromEntries((stepById('deploy').env ?? []).map((p) => p.split('=')).map(([k, v]) => [k!, substitute(v!, values)]));
    const image = deployArgs.find((a) => a.startsWith('--image='))!.slice('--image='.length);
    expect(image).toBe(pushed);
    // As Cloud Build runs it, and as its usage text shows it (only ORG_ID, the project from the image).
    for (const settings of [env, { ORG_ID: '123456789012' }]) {
      const [job, ...more] = dryRun(settings as Record<string, string>, ['--only=job', `--image=${image}`]);
      expect(more).toEqual([]);
      expect(job!.flags.image).toBe(`${repositoryOf(pushed)}@DIGEST`);
      expect(job!.flags.project).toBe(PROJECT);
    }
  });

  it('without an image the script builds one, into the repository and name Cloud Build pushes to, and deploys it by digest', () => {
    const commands = dryRun({ PROJECT, ORG_ID: '123456789012', BUILD_TAG: 'manual-1' });
    const build = commands.find((c) => c.positionals.slice(0, 3).join(' ') === 'gcloud builds submit')!;
    expect(repositoryOf(build.flags.tag!)).toBe(repositoryOf(pushed));
    const deployAt = commands.findIndex((c) => c.positionals.slice(0, 4).join(' ') === 'gcloud run jobs deploy');
    expect(commands.indexOf(build)).toBeLessThan(deployAt);
    expect(commands[deployAt]!.flags.image).toBe(`${repositoryOf(pushed)}@DIGEST`);
    // The repository is created before anything is pushed to it.
    const repo = commands.findIndex((c) => c.positionals.slice(0, 4).join(' ') === 'gcloud artifacts repositories create');
    expect(repo).toBeGreaterThanOrEqual(0);
    expect(repo).toBeLessThan(commands.indexOf(build));
  });

  it('no tag that nothing pushes: neither file, nor the docs, deploy a moving tag', () => {
    const script = readFileSync(join(REPO, 'deploy/deploy.sh'), 'utf8');
    for (const file of [script, text, readFileSync(join(REPO, 'docs/deploy.md'), 'utf8')]) expect(file).not.toMatch(/:latest\b/);
    expect(config.images?.map((i) => substitute(i, values))).toEqual([pushed]);
    // The usage text shows the form the first test runs.
    const usage = execFileSync('bash', ['deploy/deploy.sh', '--help'], { cwd: REPO, encoding: 'utf8' });
    expect(usage).toMatch(/ORG_ID=\d+ deploy\/deploy\.sh --only=job --image=IMAGE/);
  });
});
