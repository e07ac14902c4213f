import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCAN_HELP } from '../../src/cli/help.js';
import { ENV_VARS, flagName } from '../../src/config/config.js';
import { CLOUD_RUN_ENV } from '../../src/runtime/cloud-run.js';
import { FIX_ENV_VARS, FIX_FLAGS } from '../../src/remediation/config.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');

describe('docs/configuration.md', () => {
  it.each(Object.entries(ENV_VARS))('documents %s: its flag and its variable', (key, variable) => {
    expect(doc, `${variable} is not in docs/configuration.md`).toContain(`\`${variable}\``);
    expect(doc, `${flagName(key)} is not in docs/configuration.md`).toContain(`\`${flagName(key)}`);
  });

  it.each(Object.entries(FIX_ENV_VARS))('documents the remediation setting %s: its flag and its variable', (key, variable) => {
    expect(doc, `${variable} is not in docs/configuration.md`).toContain(`\`${variable}\``);
    expect(doc, `${FIX_FLAGS[key as keyof typeof FIX_FLAGS]} is not in docs/configuration.md`).toContain(`\`${FIX_FLAGS[key as keyof typeof FIX_FLAGS]}`);
  });

  it.each(Object.values(CLOUD_RUN_ENV))('documents the Cloud Run variable %s', (variable) => {
    expect(doc).toContain(`\`${variable}\``);
  });

  it('and the scan help name the same variables', () => {
    for (const variable of Object.values(ENV_VARS)) expect(SCAN_HELP).toContain(`[${variable}]`);
  });
});
