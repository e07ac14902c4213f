import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allRules, ruleById } from '../../rules/index.js';
import type { Rule } from '../../src/engine/define-rule.js';

const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));
const TESTS_DIR = fileURLToPath(new URL('./', import.meta.url));
const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts').sort();
const modules = await Promise.all(
  ruleFiles.map(async (file) => ({ file, id: file.replace(/\.ts$/, ''), rule: ((await import(`../../rules/${file.replace(/\.ts$/, '.js')}`)) as { default: Rule }).default })),
);

describe('rule registry', () => {
  it('has rule files to check', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
  });

  it('registers every file in rules/ exactly once, and nothing else', () => {
    for (const { file, rule } of modules) {
      expect(allRules.filter((r) => r === rule), `${file} in allRules`).toHaveLength(1);
    }
    expect(allRules).toHaveLength(modules.length);
  });

  it('has unique ids, each equal to its file name and found by ruleById', () => {
    for (const { id, rule } of modules) {
      expect(rule.meta.id).toBe(id);
      expect(ruleById(id)).toBe(rule);
    }
    const ids = allRules.map((r) => r.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ruleById('no-such-rule')).toBeUndefined();
  });

  describe.each(modules)('$id', ({ id, rule }) => {
    const { meta } = rule;

    it('declares its metadata', () => {
      expect(meta.title.trim()).not.toBe('');
      expect(['critical', 'high', 'medium', 'low', 'info']).toContain(meta.severity);
      expect(meta.appliesTo === 'all' || meta.appliesTo.length > 0).toBe(true);
      expect(meta.docs.description.trim()).not.toBe('');
      expect(meta.docs.rationale.trim()).not.toBe('');
      expect(meta.docs.sources.length).toBeGreaterThan(0);
      for (const source of meta.docs.sources) expect(source.trim()).not.toBe('');
      expect(meta.docs.fix.gcloud.trim()).not.toBe('');
      expect(meta.docs.fix.terraform.trim()).not.toBe('');
      expect(meta.remediation.summary.trim()).not.toBe('');
      expect(typeof meta.remediation.automatic).toBe('boolean');
      expect(Object.keys(meta.messages).length).toBeGreaterThan(0);
    });

    it('has a test table', () => {
      expect(existsSync(`${TESTS_DIR}${id}.test.ts`), `test/rules/${id}.test.ts`).toBe(true);
    });

    it('uses only plain {{word}} placeholders in its messages', () => {
      for (const [messageId, template] of Object.entries(meta.messages as Record<string, string>)) {
        expect(template.trim(), messageId).not.toBe('');
        const braces = template.match(/\{\{.*?\}\}|\{\{|\}\}/g) ?? [];
        for (const b of braces) expect(b, `${messageId}: ${template}`).toMatch(/^\{\{[A-Za-z]\w*\}\}$/);
        expect(template.replace(/\{\{\w+\}\}/g, ''), `${messageId}: stray brace`).not.toMatch(/\{\{|\}\}/);
      }
    });
  });
});
