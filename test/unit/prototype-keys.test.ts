/**
 * A tenant's strings never reach a prototype: every path that turns user data into object
 * keys or paths is fed `__proto__`, `constructor` and `prototype`, and Object.prototype (and
 * what the path produces) must come out unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compileSelector, parseSelectorString, SelectorError } from '../../src/catalog/selector.ts';
import { buildWorld } from '../../src/cli/cluster.ts';
import { UsageError } from '../../src/cli/command.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { importCommand } from '../../src/cli/import.ts';
import { loadRunConfig, RUN_FLAGS } from '../../src/cli/run-config.ts';
import { BACKSTAGE_FIELDS_ANNOTATION } from '../../src/interop/backstage.ts';
import { CATALOG_INFO_PATH, catalogInfoHandler } from '../../src/interop/catalog-info.ts';
import { exportBackstage, type ExportProblem } from '../../src/interop/export.ts';
import { importBackstage } from '../../src/interop/import.ts';
import { parseDocuments } from '../../src/interop/yaml.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { createStateMetrics } from '../../src/reconcilers/state-metrics.ts';
import { keepPaths } from '../../src/runtime/transform.ts';
import { capture } from './cli/io.ts';

/** The annotation of the attack: one path through `__proto__`, one through `constructor.prototype`. */
const ATTACK = '{"__proto__.workloads": "x", "constructor.prototype.polluted": "y"}';

const PROTOTYPES = [Object.prototype, Function.prototype, Array.prototype] as const;
const shape = () => PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort());
let before: string[][];

beforeEach(() => {
  before = shape();
});

afterEach(() => {
  const polluted = shape();
  // Clean up first, so that one failure does not turn every later test (and jest itself) red.
  PROTOTYPES.forEach((p, i) => {
    for (const key of polluted[i]!) if (!before[i]!.includes(key)) delete (p as unknown as Record<string, unknown>)[key];
  });
  expect(polluted).toEqual(before);
  expect(({} as Record<string, unknown>).workloads).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const api = (annotations: Record<string, string>): KubeObject => ({
  apiVersion: 'catalog.backlot.dev/v1alpha1',
  kind: 'API',
  metadata: { name: 'orders', namespace: 'tenant-a', annotations },
  spec: { type: 'openapi', lifecycle: 'production', owner: 'team-a', definition: 'openapi: 3.1.0\n' },
});

const component: KubeObject = {
  apiVersion: 'catalog.backlot.dev/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'tenant-b' },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-b' },
};

describe('export: the backlot.dev/backstage-fields annotation', () => {
  it('restores no path through __proto__, constructor or prototype, and reports them', () => {
    const problems: ExportProblem[] = [];
    const attacked = exportBackstage([api({ [BACKSTAGE_FIELDS_ANNOTATION]: ATTACK })], { defaultNamespace: 'default', onProblem: (p) => problems.push(p) });
    const clean = exportBackstage([api({})], { defaultNamespace: 'default' });
    expect(attacked).toEqual(clean);
    expect(problems).toEqual([
      {
        entity: 'api:tenant-a/orders',
        message: `${BACKSTAGE_FIELDS_ANNOTATION}: not restored: "__proto__.workloads", "constructor.prototype.polluted" (a field path cannot go through __proto__, constructor or prototype)`,
      },
    ]);
  });

  it.each([['metadata.__proto__.polluted'], ['spec.constructor.prototype.polluted'], ['spec.__proto__'], ['prototype'], ['metadata.annotations.__proto__']])(
    'refuses %s and still restores the other fields',
    (path) => {
      const [out] = exportBackstage(
        [api({ [BACKSTAGE_FIELDS_ANNOTATION]: JSON.stringify({ [path]: { polluted: 'z' }, 'spec.kept': 'yes', 'metadata.x.y': 1 }) })],
        {
          defaultNamespace: 'default',
        },
      );
      expect(out?.spec?.kept).toBe('yes');
      expect(out?.metadata.x).toEqual({ y: 1 });
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(out?.metadata)).toBe(Object.prototype);
      expect(JSON.stringify(out)).not.toContain('polluted');
    },
  );

  it('keeps annotation keys named constructor or prototype as plain keys', () => {
    const [out] = exportBackstage([api({ constructor: 'a', prototype: 'b' })], { defaultNamespace: 'default' });
    expect(Object.entries(out?.metadata.annotations ?? {})).toEqual([
      ['constructor', 'a'],
      ['prototype', 'b'],
    ]);
  });
});

describe('the served /catalog-info.yaml', () => {
  let server: Server;
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves the attacked entity without pollution, and the next metrics collection works', async () => {
    const world = buildWorld({ entities: { API: [api({ [BACKSTAGE_FIELDS_ANNOTATION]: ATTACK })], Component: [component] } });
    const handler = catalogInfoHandler(world, { defaultNamespace: 'default', synced: () => true });
    server = createServer((req, res) => (req.url === CATALOG_INFO_PATH ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${CATALOG_INFO_PATH}`);
    expect(res.status).toBe(200);
    const docs = parseAllDocuments(await res.text()).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(['Component', 'API']);
    for (const d of docs) expect(Object.keys(d.spec)).not.toContain('workloads');

    const text = await createStateMetrics({ world, excludedNamespaces: new Set() }).text();
    expect(text).toContain('backlot_entity_info{kind="Component",namespace="tenant-b",name="checkout"');
  });
});

describe('import', () => {
  const imported = (yaml: string) => importBackstage(parseDocuments('hostile.yaml', yaml).documents, { defaultNamespace: 'default' });

  it.each([
    ['a top-level __proto__', '__proto__: {polluted: 1}\n', '__proto__'],
    ['metadata.constructor', 'metadata:\n  name: orders\n  constructor: {prototype: {polluted: 1}}\n', 'metadata.constructor'],
    ['a spec key with dots through __proto__', 'spec:\n  "x.__proto__.polluted": 1\n', 'spec.x.__proto__.polluted'],
    ['spec.prototype', 'spec:\n  prototype: {polluted: 1}\n', 'spec.prototype'],
  ])('refuses %s as a field to keep, naming it', (_title, extra, path) => {
    const base = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'orders' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
    };
    const [doc] = parseAllDocuments(extra).map((d) => d.toJS() as Record<string, Record<string, unknown>>);
    const value = { ...base, ...doc, metadata: { ...base.metadata, ...doc!.metadata }, spec: { ...base.spec, ...doc!.spec } };
    const result = importBackstage([{ file: 'hostile.yaml', index: 0, value }], { defaultNamespace: 'default' });
    expect(result.objects).toEqual([]);
    expect(result.errors).toEqual([expect.objectContaining({ path, message: expect.stringContaining('cannot be a field name') as unknown })]);
  });

  it('refuses a Group profile field named __proto__', () => {
    const result = imported(
      'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\nspec:\n  type: team\n  profile: {displayName: A, __proto__: {polluted: 1}}\n',
    );
    expect(result.errors.map((e) => e.path)).toEqual(['spec.profile.__proto__']);
  });

  it('keeps labels and annotations named constructor or prototype as plain keys', () => {
    const result = imported(
      'apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: shop\n  labels: {constructor: a, prototype: b}\n  annotations: {constructor: c}\nspec: {owner: team-a}\n',
    );
    expect(result.errors).toEqual([]);
    const [obj] = result.objects;
    expect(Object.entries(obj!.metadata.labels!)).toEqual([
      ['constructor', 'a'],
      ['prototype', 'b'],
    ]);
    expect(Object.entries(obj!.metadata.annotations!)).toEqual([['constructor', 'c']]);
  });

  it('through backlot import: refuses the file, writes nothing on standard output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backlot-proto-'));
    try {
      const file = join(dir, 'catalog-info.yaml');
      writeFileSync(
        file,
        'apiVersion: backstage.io/v1alpha1\nkind: Component\n__proto__: {polluted: 1}\nmetadata:\n  name: a\n  __proto__: {polluted: 1}\nspec: {type: service, lifecycle: production, owner: team-a}\n',
      );
      const { io, stdout, stderr } = capture();
      expect(await importCommand.run([file], io)).toBe(1);
      expect(stdout()).toBe('');
      expect(stderr()).toContain('document 1 (component:default/a): __proto__: "__proto__" cannot be a field name');
      expect(stderr()).toContain('metadata.__proto__: "__proto__" cannot be a field name');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the label selector annotation', () => {
  it('builds matchLabels from constructor and prototype keys without a prototype, or refuses them', () => {
    let selector: ReturnType<typeof parseSelectorString> | undefined;
    try {
      selector = parseSelectorString('constructor=x,prototype=y');
    } catch (err) {
      expect(err).toBeInstanceOf(SelectorError);
    }
    if (selector) {
      expect(Object.getPrototypeOf(selector.matchLabels)).toBeNull();
      expect(Object.entries(selector.matchLabels ?? {})).toEqual([
        ['constructor', 'x'],
        ['prototype', 'y'],
      ]);
      expect(compileSelector(selector).matches({})).toBe(false);
    }
  });

  it('refuses __proto__ as a key', () => {
    expect(() => parseSelectorString('__proto__=x')).toThrow(SelectorError);
  });
});

describe('flags', () => {
  it.each(['--__proto__=x', '--constructor=x', '--prototype', '--toString=1', '--hasOwnProperty'])('backlot run refuses %s as an unknown flag', (flag) => {
    expect(() => parseFlags([flag], RUN_FLAGS, { command: 'run' })).toThrow(/^unknown flag "--/);
    expect(() => loadRunConfig({ argv: [flag], env: {} })).toThrow(UsageError);
  });

  it.each(['--__proto__=x', '--constructor', '--toString=1'])('the other commands refuse %s as an unknown flag', (flag) => {
    expect(() => parseFlags([flag], [{ name: 'namespace', short: 'n', type: 'string', help: '' }], { command: 'orphans' })).toThrow(/^unknown flag/);
  });
});

describe('cache transforms', () => {
  it('refuses a kept path through a prototype key', () => {
    expect(() => keepPaths(['spec.__proto__.x'])).toThrow(/invalid field path/);
    expect(() => keepPaths(['constructor.prototype'])).toThrow(/invalid field path/);
  });
});
