import { describe, expect, it } from '@jest/globals';
import { decodeObject, listOf, OBJECT_META, ProtobufError, schemaCovers, type Schema } from '../../../src/k8s/protobuf.ts';
import { WORKLOAD_LIST_SCHEMAS, WORKLOAD_PATHS } from '../../../src/reconcilers/informers.ts';
import { KEPT_METADATA } from '../../../src/runtime/transform.ts';

/** A tiny protobuf writer for the tests' bodies. */
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
};
const tag = (field: number, wireType: number) => varint(field * 8 + wireType);
const int = (field: number, n: number | bigint) => [...tag(field, 0), ...varint(n)];
const bytes = (field: number, content: number[]) => [...tag(field, 2), ...varint(content.length), ...content];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const entry = (field: number, key: string, value: string) => bytes(field, [...str(1, key), ...str(2, value)]);
/** The Kubernetes envelope: magic, then runtime.Unknown{ typeMeta, raw }. */
const envelope = (raw: number[]) => new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...str(1, 'v1'), ...str(2, 'Thing')]), ...bytes(2, raw), ...str(4, 'application/vnd.kubernetes.protobuf')]);

const THING: Schema = {
  fields: {
    1: { name: 'metadata', type: OBJECT_META },
    2: {
      name: 'spec',
      type: {
        fields: {
          1: { name: 'count', type: 'int' },
          2: { name: 'limit', type: 'int', pointer: true },
          3: { name: 'kind', type: 'string', always: true },
          4: { name: 'note', type: 'string' },
          5: { name: 'flags', type: 'bool', repeated: true },
          6: { name: 'when', type: 'time' },
        },
      },
    },
  },
};

describe('decodeObject', () => {
  it('decodes named fields and steps over the rest', () => {
    const meta = [...str(1, 'web'), ...str(3, 'shop'), ...str(2, 'skipped-generate-name'), ...int(7, 4), ...entry(11, 'app', 'web'), ...entry(11, 'tier', ''), ...bytes(8, [...int(1, 1764583200)]), ...str(14, 'a-finalizer')];
    const spec = [...int(1, 3), ...int(2, 0), ...str(3, ''), ...str(4, ''), ...bytes(5, [1, 0, 1]), ...bytes(99, [1, 2, 3]), ...int(98, 7), ...tag(97, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...tag(96, 5), 1, 2, 3, 4];
    const obj = decodeObject(envelope([...bytes(1, meta), ...bytes(2, spec)]), THING);
    expect(obj).toEqual({
      metadata: { name: 'web', namespace: 'shop', generation: 4, labels: { app: 'web', tier: '' }, creationTimestamp: '2025-12-01T10:00:00Z' },
      spec: { count: 3, limit: 0, kind: '', flags: [true, false, true], when: null },
    });
  });

  it('leaves out zeros and empty strings, as omitempty JSON does, and keeps pointers and required fields', () => {
    const obj = decodeObject(envelope([...bytes(2, [...int(1, 0), ...str(4, '')])]), THING);
    expect(obj).toEqual({ metadata: { creationTimestamp: null }, spec: { kind: '', when: null } });
  });

  it('shows an empty Time as null and a set one at whole seconds', () => {
    const at = (content: number[]) => decodeObject(envelope(bytes(2, bytes(6, content))), THING).spec;
    expect(at([])).toEqual({ kind: '', when: null });
    expect(at([...int(1, 1764583200), ...int(2, 999)])).toEqual({ kind: '', when: '2025-12-01T10:00:00Z' });
    expect(at([...int(1, 0), ...int(2, 999)])).toEqual({ kind: '', when: '1970-01-01T00:00:00Z' });
  });

  it('reads negative numbers sent as ten-byte varints', () => {
    expect(decodeObject(envelope(bytes(2, int(2, -1))), THING).spec).toMatchObject({ limit: -1 });
    expect(decodeObject(envelope(bytes(2, int(2, -5_000_000_000))), THING).spec).toMatchObject({ limit: -5_000_000_000 });
  });

  it('decodes lists with their metadata', () => {
    const list = listOf(THING);
    const item = (name: string) => bytes(2, bytes(1, str(1, name)));
    const body = envelope([...bytes(1, [...str(2, '42'), ...str(3, 'next-page')]), ...item('a'), ...item('b')]);
    const decoded = decodeObject(body, list) as { metadata: unknown; items: { metadata: { name: string } }[] };
    expect(decoded.metadata).toEqual({ resourceVersion: '42', continue: 'next-page' });
    expect(decoded.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
  });

  it('keeps the managedFields entries and steps over the fields they own', () => {
    const mf = bytes(17, [...str(1, 'backlot'), ...str(2, 'Apply'), ...str(3, 'apps/v1'), ...str(6, 'FieldsV1'), ...bytes(7, str(1, '{"f:metadata":{"f:labels":{}}}'))]);
    expect(decodeObject(envelope(bytes(1, mf)), THING).metadata).toEqual({
      creationTimestamp: null,
      managedFields: [{ manager: 'backlot', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' }],
    });
  });

  it.each([
    ['no magic', new Uint8Array([1, 2, 3, 4, 5])],
    ['a truncated field', envelope([...tag(1, 2), 50, 1, 2])],
    ['a truncated varint', envelope([...tag(2, 0), 0x80])],
    ['no object in the envelope', new Uint8Array([0x6b, 0x38, 0x73, 0x00])],
    ['a group wire type', envelope([...tag(9, 3)])],
  ])('rejects %s with a clear error', (_name, body) => {
    expect(() => decodeObject(body, THING)).toThrow(ProtobufError);
    expect(() => decodeObject(body, THING)).toThrow(/^malformed protobuf body: /);
  });
});

describe('the workload list schemas', () => {
  it.each(Object.keys(WORKLOAD_LIST_SCHEMAS) as (keyof typeof WORKLOAD_LIST_SCHEMAS)[])('%s decodes every path its cache keeps', (kind) => {
    const schema = WORKLOAD_LIST_SCHEMAS[kind]!;
    for (const path of WORKLOAD_PATHS[kind]) expect([path, schemaCovers(schema, path)]).toEqual([path, true]);
    for (const field of [...KEPT_METADATA, 'managedFields']) expect([field, schemaCovers(schema, `metadata.${field}`)]).toEqual([field, true]);
    expect(schemaCovers(schema, 'spec.template')).toBe(false);
  });
});
