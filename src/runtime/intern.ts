/**
 * One copy of each string that many cached objects hold. JSON.parse makes a string of its own
 * for every value it reads, so ten thousand workloads in one namespace hold ten thousand
 * copies of its name, and as many of every label and annotation value they share (an owner,
 * a lifecycle, a system), and every entity's status its own copy of the condition types,
 * reasons and messages it shares with all the others. The informers put what they cache
 * through a pool, which hands back the first copy it was given of each value: the copies
 * parsed later are garbage at once.
 *
 * The pool is bounded. It keeps two generations of at most `generationSize` strings: a string
 * asked for again moves to the young one, and when that is full the old one is dropped, so
 * values no cached object holds any more (resource versions of the past, names of deleted
 * objects) leave it after two generations. A dropped value still in use stays as it is,
 * shared by the objects that had it; a copy parsed after that starts a new shared one.
 */

/**
 * Shorter strings are left alone: V8's JSON.parse shares them itself (it interns every value
 * of fewer than 10 characters), and a pool entry would cost more than most of them.
 */
const MIN_LENGTH = 10;
/** Longer strings are left alone: seldom repeated, and not worth keeping past their objects. */
const MAX_LENGTH = 256;

export class StringPool {
  private readonly generationSize: number;
  private young = new Map<string, string>();
  private old = new Map<string, string>();

  constructor(options: { generationSize?: number } = {}) {
    this.generationSize = options.generationSize ?? 32_768;
    if (!(this.generationSize >= 1)) throw new RangeError(`generationSize must be at least 1 (got ${this.generationSize})`);
  }

  /** The pool's copy of `s` (equal to it), `s` itself when it is the first or not pooled. */
  intern(s: string): string {
    if (s.length < MIN_LENGTH || s.length > MAX_LENGTH) return s;
    const young = this.young.get(s);
    if (young !== undefined) return young;
    const shared = this.old.get(s) ?? s;
    this.young.set(shared, shared);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    return shared;
  }

  /** Strings held, in both generations (a string in both counts twice). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}

/**
 * Metadata values that are the object's own: unique to it, or (resourceVersion) new at every
 * change. Pooling them would fill the pool with strings nothing shares.
 */
const OWN_METADATA = new Set(['name', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'managedFields']);

/** How deep into an object strings are pooled; deeper ones (rare, and in user data) are left alone. */
const MAX_DEPTH = 32;

/**
 * Replaces every string value of a freshly decoded object, down to MAX_DEPTH, by the pool's
 * copy, in place (the values stay equal: only which copy holds them changes), but for the
 * metadata that is the object's own (OWN_METADATA). Keys are left alone (V8 shares property
 * names itself), and so are frozen objects and arrays: those are shared already.
 */
export function internStrings(pool: StringPool, obj: Record<string, unknown>): void {
  if (Object.isFrozen(obj)) return;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (key === 'metadata' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const metadata = value as Record<string, unknown>;
      if (Object.isFrozen(metadata)) continue;
      for (const field of Object.keys(metadata)) if (!OWN_METADATA.has(field)) metadata[field] = interned(pool, metadata[field], 2);
    } else {
      obj[key] = interned(pool, value, 1);
    }
  }
}

function interned(pool: StringPool, value: unknown, depth: number): unknown {
  if (typeof value === 'string') return pool.intern(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = interned(pool, value[i], depth + 1);
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = interned(pool, record[key], depth + 1);
  }
  return value;
}
