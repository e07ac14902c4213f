/**
 * Values a rule computes once per scan, by an owner object and two strings (see
 * `Inventory.memoPair`). The last lookup is answered before any map: jobs come grouped by
 * project in every export, so consecutive jobs mostly ask for the same value.
 */
export class MemoSpace {
  // Owners are objects the inventory keeps anyway (interned ancestries), few and alive for the
  // whole scan: a plain map finds them faster than a WeakMap, and holds nothing longer.
  private readonly byOwner = new Map<object, Map<string, Map<string, unknown>>>();
  private lastOwner: object | undefined;
  private lastKey = '';
  private lastSecondKey = '';
  private lastValue: unknown;

  get<T>(owner: object, key: string, secondKey: string, compute: () => T): T {
    if (owner === this.lastOwner && key === this.lastKey && secondKey === this.lastSecondKey) return this.lastValue as T;
    let byKey = this.byOwner.get(owner);
    if (!byKey) this.byOwner.set(owner, (byKey = new Map()));
    let bySecondKey = byKey.get(key);
    if (!bySecondKey) byKey.set(key, (bySecondKey = new Map()));
    let value = bySecondKey.get(secondKey) as T | undefined;
    if (value === undefined && !bySecondKey.has(secondKey)) {
      value = compute();
      bySecondKey.set(secondKey, value);
    }
    this.lastOwner = owner;
    this.lastKey = key;
    this.lastSecondKey = secondKey;
    this.lastValue = value;
    return value as T;
  }
}
