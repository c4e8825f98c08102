/**
 * The import graph of src/ follows the layers of ARCHITECTURE.md: every arrow points down,
 * and no module reaches itself again through its imports.
 *
 *   cli (with main.ts, the composition root, and registrations.ts)
 *     → reconcilers, interop, metrics, server
 *     → catalog, runtime
 *     → api → k8s → util
 *
 * Directories of one layer do not import each other, except as EXCEPTIONS says. A file
 * directly under src/ or a new directory must be given a layer here before it can exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../../src');

/** Layer of each top-level directory (or file) of src/, from the top (0) down. */
const LAYER: Readonly<Record<string, number>> = {
  cli: 0,
  'main.ts': 0,
  'registrations.ts': 0,
  reconcilers: 1,
  interop: 1,
  metrics: 1,
  server: 1,
  catalog: 2,
  runtime: 2,
  api: 3,
  k8s: 4,
  util: 5,
};

/** Top-level entries that make up one unit: the composition root and the commands it serves. */
const UNIT: Readonly<Record<string, string>> = { 'main.ts': 'cli', 'registrations.ts': 'cli' };

/** Dev tooling (the local control plane, the demo): it may use anything, and nothing in src/ imports it. */
const TOOLING = 'envtest';

/** Arrows between directories of one layer, each with its reason. */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string; why: string }> = [
  {
    from: 'metrics',
    to: 'server',
    why: 'metrics/auth.ts implements the ReviewMetrics interface server/reviews.ts declares, as metrics/runtime.ts implements the ones runtime/metrics.ts declares',
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a file (static, type-only, re-exports and dynamic), as absolute paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name));
}

const top = (file: string) => relative(SRC, file).split('/')[0]!;
const unit = (file: string) => UNIT[top(file)] ?? top(file);

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('the import graph of src/', () => {
  it('is read: every relative import names a file of src/', () => {
    const arrows = [...graph.values()].flat();
    expect(arrows.length).toBeGreaterThan(300);
    const missing = [...graph].flatMap(([from, to]) => to.filter((t) => !graph.has(t)).map((t) => `${relative(SRC, from)} → ${relative(SRC, t)}`));
    expect(missing).toEqual([]);
  });

  it('gives every top-level entry of src/ a layer', () => {
    const unplaced = [...new Set(files.map(top))].filter((t) => t !== TOOLING && LAYER[t] === undefined);
    expect(unplaced).toEqual([]);
  });

  it('points every arrow down the layers', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      const a = unit(from);
      if (a === TOOLING) continue;
      for (const to of targets) {
        const b = unit(to);
        if (a === b) continue;
        const allowed = b !== TOOLING && (LAYER[b]! > LAYER[a]! || (LAYER[b] === LAYER[a] && EXCEPTIONS.some((e) => e.from === a && e.to === b)));
        if (!allowed) upward.push(`${relative(SRC, from)} → ${relative(SRC, to)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps each exception in use, so that a stale one is removed', () => {
    const used = (e: { from: string; to: string }) => [...graph].some(([from, targets]) => unit(from) === e.from && targets.some((t) => unit(t) === e.to));
    expect(EXCEPTIONS.filter((e) => !used(e)).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('has no cycle between modules', () => {
    // Tarjan's strongly connected components: any component of more than one file is a cycle.
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      index.set(v, next);
      low.set(v, next);
      next++;
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) !== index.get(v)) return;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    };
    for (const file of graph.keys()) if (!index.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
