/**
 * What this process wrote a moment ago and its cache has not seen yet. A key can be queued
 * again while its last write's watch event is still on its way; reconciling it from the
 * stale cache would send the same write twice. Each entry remembers the resourceVersion the
 * cache held when the write was sent: while the cache still holds it, the write stands for
 * the cache; once the cache moves (to the write's own version, or anyone else's), the cache
 * is the truth again.
 */
import type { KubeObject } from '../k8s/object.ts';

interface Entry<T> {
  /** The cached resourceVersion the write was based on. */
  base: string | undefined;
  /** What was written. */
  written: T;
}

export class RecentWrites<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * What was just written for `key`, while the cache (holding `cached`) has not caught up with
   * it; undefined when nothing was, or once the cache has moved on.
   */
  pending(key: string, cached: KubeObject): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (cached.metadata?.resourceVersion !== entry.base) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.written;
  }

  record(key: string, cached: KubeObject, written: T): void {
    this.entries.set(key, { base: cached.metadata?.resourceVersion, written });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
