/**
 * Reading the API server's protobuf encoding of built-in objects, for the fields Backlot
 * keeps and no others.
 *
 * A LIST of Deployments is mostly pod templates and managedFields, which Backlot drops at
 * the door (see runtime/transform.ts). As JSON, every byte of it is parsed into objects first;
 * as protobuf, a field is length-prefixed, so the ones a schema does not name are stepped
 * over unread. Decoded objects look as the JSON encoding of the same object would after
 * JSON.parse, for the fields the schema names: the same names, and the same fields left out
 * (empty strings, zero numbers and empty lists and maps that Kubernetes marks omitempty).
 *
 * The wire format: https://protobuf.dev/programming-guides/encoding/. Kubernetes wraps each
 * body in a 4-byte magic ("k8s\0") and a runtime.Unknown message whose `raw` field holds the
 * object (k8s.io/apimachinery/pkg/runtime/generated.proto). Field numbers come from each
 * type's generated.proto in k8s.io/api and k8s.io/apimachinery.
 */

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/**
 * How one field is decoded:
 * - `string`, `int`, `bool`: scalars. An empty string or a zero number is left out unless
 *   `always` is set (fields without omitempty) or `pointer` (optional fields that Kubernetes
 *   encodes only when set, and then shows even when zero).
 * - `time`: a meta/v1 Time, shown as RFC 3339 at whole seconds as its JSON is; a zero time
 *   is null, as JSON shows it, unless `pointer`.
 * - `map`: map<string, string>, left out when empty.
 * - a Schema: a nested message, always shown (Kubernetes encodes nested structs even when
 *   empty, and JSON shows them as `{}`) unless `pointer`.
 * `repeated` fields are lists, left out when empty.
 */
export type FieldType = 'string' | 'int' | 'bool' | 'time' | 'map' | Schema;

export interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
  always?: boolean;
  pointer?: boolean;
}

export interface Schema {
  readonly fields: Readonly<Record<number, Field>>;
}

export class ProtobufError extends Error {
  constructor(message: string) {
    super(`malformed protobuf body: ${message}`);
    this.name = 'ProtobufError';
  }
}

/** A cursor over one buffer. */
class Reader {
  readonly buf: Uint8Array;
  readonly end: number;
  pos: number;
  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  varint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('a varint runs past the end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return i === 9 ? this.negative(start) : result;
      scale *= 128;
    }
    throw new ProtobufError('a varint is longer than ten bytes');
  }

  /** A negative int32 or int64 is sent as ten bytes of two's complement, past a double's precision. */
  private negative(start: number): number {
    let v = 0n;
    for (let i = this.pos - 1; i >= start; i--) v = (v << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, v));
  }

  /** The bounds of a length-delimited value. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) throw new ProtobufError('a field runs past the end of its message');
    this.pos = start + len;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtobufError(`wire type ${wireType} is not supported`);
    if (this.pos > this.end) throw new ProtobufError('a field runs past the end of its message');
  }
}

const utf8 = new TextDecoder();

/** Names, keys and versions are short ASCII: built directly, without a call into the decoder. */
function text(r: Reader, [start, end]: [number, number]): string {
  const buf = r.buf;
  if (end - start > 64) return utf8.decode(buf.subarray(start, end));
  let out = '';
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return utf8.decode(buf.subarray(start, end));
    out += String.fromCharCode(b);
  }
  return out;
}

/** Calls `fn` for each field of the message in [start, end). */
function eachField(r: Reader, fn: (field: number, wireType: number) => void): void {
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    if (field === 0) throw new ProtobufError('field number 0');
    const before = r.pos;
    fn(field, tag & 7);
    // fn reads the value it wants; an untouched value is skipped.
    if (r.pos === before) r.skip(tag & 7);
  }
}

function sub(r: Reader, wireType: number): Reader {
  if (wireType !== 2) throw new ProtobufError(`a message field has wire type ${wireType}`);
  const [start, end] = r.bytes();
  return new Reader(r.buf, start, end);
}

function time(r: Reader): string | null {
  // Kubernetes encodes the zero time as an empty message; JSON shows it as null.
  if (r.pos === r.end) return null;
  let seconds = 0;
  eachField(r, (field, wireType) => {
    if (field === 1 && wireType === 0) seconds = r.varint();
  });
  let formatted = recentTimes.get(seconds);
  if (formatted === undefined) {
    // JSON carries whole seconds only (meta/v1 Time drops the nanoseconds there too).
    formatted = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (recentTimes.size >= 4096) recentTimes.clear();
    recentTimes.set(seconds, formatted);
  }
  return formatted;
}

/** Objects of one list share their times often (created together, updated together). */
const recentTimes = new Map<number, string>();

function stringMap(r: Reader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  eachField(r, (field, wireType) => {
    if (wireType !== 2) return;
    if (field === 1) key = text(r, r.bytes());
    else if (field === 2) value = text(r, r.bytes());
  });
  into[key] = value;
}

function value(r: Reader, f: Field, wireType: number): unknown {
  const t = f.type;
  if (typeof t === 'object') return message(sub(r, wireType), t);
  switch (t) {
    case 'string':
      return text(r, r.bytes());
    case 'int':
      return r.varint();
    case 'bool':
      return r.varint() !== 0;
    case 'time':
      return time(sub(r, wireType));
    case 'map':
      throw new ProtobufError('a map is read by its message');
  }
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/**
 * What JSON shows of a message with none of its fields set: nested structs as their own
 * defaults, zero times as null, required scalars as their zero. Kubernetes encodes these
 * even when empty, but another encoder need not.
 */
function defaults(schema: Schema): Record<string, unknown> {
  let make = defaultMakers.get(schema);
  if (!make) {
    const parts: [string, () => unknown][] = [];
    for (const key in schema.fields) {
      const f = schema.fields[key]!;
      if (f.pointer || f.repeated) continue;
      const t = f.type;
      if (typeof t === 'object') parts.push([f.name, () => defaults(t)]);
      else if (t === 'time') parts.push([f.name, () => null]);
      else if (f.always) {
        const zero = t === 'string' ? '' : t === 'bool' ? false : 0;
        parts.push([f.name, () => zero]);
      }
    }
    make = () => {
      const out: Record<string, unknown> = {};
      for (const [name, value] of parts) out[name] = value();
      return out;
    };
    defaultMakers.set(schema, make);
  }
  return make();
}

const defaultMakers = new WeakMap<Schema, () => Record<string, unknown>>();

/** Decodes one message of the given schema. */
function message(r: Reader, schema: Schema): Record<string, unknown> {
  const out = defaults(schema);
  eachField(r, (field, wireType) => {
    const f = schema.fields[field];
    if (!f) return;
    if (f.type === 'map') {
      if (wireType !== 2) throw new ProtobufError(`map field ${f.name} has wire type ${wireType}`);
      stringMap(sub(r, wireType), (out[f.name] ??= {}) as Record<string, string>);
      return;
    }
    if (f.repeated && (f.type === 'int' || f.type === 'bool') && wireType === 2) {
      // A packed list of varints.
      const packed = sub(r, wireType);
      const list = (out[f.name] ??= []) as unknown[];
      while (packed.pos < packed.end) list.push(f.type === 'bool' ? packed.varint() !== 0 : packed.varint());
      return;
    }
    const v = value(r, f, wireType);
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(v);
    else if (f.pointer || f.always || !isEmpty(v)) out[f.name] = v;
    else delete out[f.name];
  });
  return out;
}

/** The message inside a Kubernetes protobuf body: the `raw` of its runtime.Unknown envelope. */
function unwrap(body: Uint8Array): Reader {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw new ProtobufError('no Kubernetes protobuf magic');
  const r = new Reader(body, 4, body.length);
  let raw: [number, number] | undefined;
  eachField(r, (field, wireType) => {
    if (field === 2 && wireType === 2) raw = r.bytes();
  });
  if (!raw) throw new ProtobufError('the envelope holds no object');
  return new Reader(body, raw[0], raw[1]);
}

/** Decodes a Kubernetes protobuf body holding one message of `schema`. */
export function decodeObject(body: Uint8Array, schema: Schema): Record<string, unknown> {
  return message(unwrap(body), schema);
}

export const LIST_META: Schema = {
  fields: {
    2: { name: 'resourceVersion', type: 'string' },
    3: { name: 'continue', type: 'string' },
    4: { name: 'remainingItemCount', type: 'int', pointer: true },
  },
};

/** The schema of a list (…List: metadata = 1, items = 2) of `item`. */
export function listOf(item: Schema): Schema {
  return { fields: { 1: { name: 'metadata', type: LIST_META }, 2: { name: 'items', type: item, repeated: true } } };
}

export const OWNER_REFERENCE: Schema = {
  fields: {
    5: { name: 'apiVersion', type: 'string', always: true },
    1: { name: 'kind', type: 'string', always: true },
    3: { name: 'name', type: 'string', always: true },
    4: { name: 'uid', type: 'string', always: true },
    6: { name: 'controller', type: 'bool', pointer: true },
    7: { name: 'blockOwnerDeletion', type: 'bool', pointer: true },
  },
};

export const MANAGED_FIELDS_ENTRY: Schema = {
  fields: {
    1: { name: 'manager', type: 'string' },
    2: { name: 'operation', type: 'string' },
    3: { name: 'apiVersion', type: 'string' },
    4: { name: 'time', type: 'time', pointer: true },
    6: { name: 'fieldsType', type: 'string' },
    // fieldsV1 (7) is stepped over: caches keep which managers wrote an object, not what.
    8: { name: 'subresource', type: 'string' },
  },
};

/**
 * meta/v1 ObjectMeta: the fields a cache keeps (runtime/transform.ts) and managedFields;
 * generateName, selfLink and finalizers are stepped over.
 */
export const OBJECT_META: Schema = {
  fields: {
    1: { name: 'name', type: 'string' },
    3: { name: 'namespace', type: 'string' },
    5: { name: 'uid', type: 'string' },
    6: { name: 'resourceVersion', type: 'string' },
    7: { name: 'generation', type: 'int' },
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time', pointer: true },
    11: { name: 'labels', type: 'map' },
    12: { name: 'annotations', type: 'map' },
    13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true },
    17: { name: 'managedFields', type: MANAGED_FIELDS_ENTRY, repeated: true },
  },
};

/** meta/v1 Status, the body of an error answer. */
export const STATUS: Schema = {
  fields: {
    2: { name: 'status', type: 'string' },
    3: { name: 'message', type: 'string' },
    4: { name: 'reason', type: 'string' },
    5: {
      name: 'details',
      pointer: true,
      type: {
        fields: {
          1: { name: 'name', type: 'string' },
          2: { name: 'group', type: 'string' },
          3: { name: 'kind', type: 'string' },
          6: { name: 'uid', type: 'string' },
          4: { name: 'causes', repeated: true, type: { fields: { 1: { name: 'reason', type: 'string' }, 2: { name: 'message', type: 'string' }, 3: { name: 'field', type: 'string' } } } },
          5: { name: 'retryAfterSeconds', type: 'int' },
        },
      },
    },
    6: { name: 'code', type: 'int' },
  },
};

/**
 * Whether `schema` names the field at a dot-separated path. Used to check that a protobuf
 * schema reaches every path a cache keeps; a path that ends at a message is kept whole, so
 * that message's schema must list all its fields (the integration test compares the two
 * encodings of real objects).
 */
export function schemaCovers(schema: Schema, path: string): boolean {
  const [head, ...rest] = path.split('.');
  const f = Object.values(schema.fields).find((x) => x.name === head);
  if (!f) return false;
  if (rest.length === 0) return true;
  return typeof f.type === 'object' && schemaCovers(f.type, rest.join('.'));
}
