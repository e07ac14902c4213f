import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoSpace } from '../../src/model/memo-space.js';

describe('MemoSpace', () => {
  it('answers every lookup as a fresh computation would, computing each (owner, key) once', () => {
    const owners = [[], ['folders/1'], ['folders/2']];
    const lookup = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom('p1', 'p2', ''));
    fc.assert(
      fc.property(fc.array(lookup, { maxLength: 40 }), (lookups) => {
        const space = new MemoSpace();
        const computed = new Map<string, number>();
        for (const [o, key] of lookups) {
          const id = `${o}|${key}`;
          const compute = (): string | undefined => {
            computed.set(id, (computed.get(id) ?? 0) + 1);
            return id === '0|' ? undefined : id;
          };
          // An undefined value is remembered too (computed once).
          const value = space.get(owners[o]!, key, compute);
          expect(value).toBe(id === '0|' ? undefined : id);
        }
        for (const n of computed.values()) expect(n).toBe(1);
      }),
    );
  });
});
