/**
 * Values a rule computes once per scan, by an owner object and one or two strings (see
 * `Inventory.memo`). The last lookup is answered before any map: consecutive jobs of one project
 * (as exports often list them) ask for the same value.
 */
export class MemoSpace {
  // Owners are objects the inventory keeps anyway (interned ancestries), few and alive for the
  // whole scan: a plain map finds them faster than a WeakMap, and holds nothing longer.
  private readonly byOwner = new Map<object, Map<string, unknown>>();
  private readonly pairsByOwner = new Map<object, Map<string, Map<string, unknown>>>();
  private lastOwner: object | undefined;
  private lastKey = '';
  private lastSecondKey: string | undefined;
  private lastValue: unknown;

  get<T>(owner: object, key: string, compute: () => T): T {
    if (owner === this.lastOwner && key === this.lastKey && this.lastSecondKey === undefined) return this.lastValue as T;
    let byKey = this.byOwner.get(owner);
    if (!byKey) this.byOwner.set(owner, (byKey = new Map()));
    const value = remembered(byKey, key, compute);
    this.remember(owner, key, undefined, value);
    return value;
  }

  getPair<T>(owner: object, key: string, secondKey: string, compute: () => T): T {
    if (owner === this.lastOwner && key === this.lastKey && secondKey === this.lastSecondKey) return this.lastValue as T;
    let byKey = this.pairsByOwner.get(owner);
    if (!byKey) this.pairsByOwner.set(owner, (byKey = new Map()));
    let bySecondKey = byKey.get(key);
    if (!bySecondKey) byKey.set(key, (bySecondKey = new Map()));
    const value = remembered(bySecondKey, secondKey, compute);
    this.remember(owner, key, secondKey, value);
    return value;
  }

  private remember(owner: object, key: string, secondKey: string | undefined, value: unknown): void {
    this.lastOwner = owner;
    this.lastKey = key;
    this.lastSecondKey = secondKey;
    this.lastValue = value;
  }
}

function remembered<T>(values: Map<string, unknown>, key: string, compute: () => T): T {
  const known = values.get(key) as T | undefined;
  if (known !== undefined || values.has(key)) return known as T;
  const value = compute();
  values.set(key, value);
  return value;
}
