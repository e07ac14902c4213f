/**
 * Values a rule computes once per scan, by an owner object and a string (see `Inventory.memo`).
 */
export class MemoSpace {
  // Owners are objects the inventory keeps anyway (interned ancestries), few and alive for the
  // whole scan: a plain map finds them faster than a WeakMap, and holds nothing longer.
  private readonly byOwner = new Map<object, Map<string, unknown>>();

  get<T>(owner: object, key: string, compute: () => T): T {
    let byKey = this.byOwner.get(owner);
    if (!byKey) this.byOwner.set(owner, (byKey = new Map()));
    return remembered(byKey, key, compute);
  }

}

function remembered<T>(values: Map<string, unknown>, key: string, compute: () => T): T {
  const known = values.get(key) as T | undefined;
  if (known !== undefined || values.has(key)) return known as T;
  const value = compute();
  values.set(key, value);
  return value;
}

/**
 * One key for two strings from the inventory, with the first one's length before it: such text
 * may hold any separator, and no two pairs may read as one key.
 */
export function pairKey(first: string, second: string): string {
  return `${first.length}:${first}${second}`;
}
