/**
 * What this process wrote a moment ago and its cache has not seen yet. A key can be queued
 * again while its last write's watch event is still on its way; reconciling it from the
 * stale cache would send the same write twice. Each entry remembers the resourceVersion the
 * cache held when the write was sent: while the cache still holds it, the write stands for
 * the cache; once the cache moves (to the write's own version, or anyone else's), the cache
 * is the truth again.
 */
import type { KubeObject } from '../k8s/object.ts';

interface Entry {
  /** The cached resourceVersion the write was based on. */
  base: string | undefined;
  /** What was written, in a comparable form. */
  fingerprint: string;
}

export class RecentWrites {
  private readonly entries = new Map<string, Entry>();

  /** Whether `fingerprint` was just written for `key` and the cache (holding `cached`) has not caught up. */
  covers(key: string, cached: KubeObject, fingerprint: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    const rv = cached.metadata?.resourceVersion;
    if (rv !== entry.base) {
      this.entries.delete(key);
      return false;
    }
    return entry.fingerprint === fingerprint;
  }

  record(key: string, cached: KubeObject, fingerprint: string): void {
    this.entries.set(key, { base: cached.metadata?.resourceVersion, fingerprint });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
