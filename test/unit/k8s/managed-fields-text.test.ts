import { describe, expect, it } from '@jest/globals';
import { managedFieldsCut } from '../../../src/k8s/managed-fields-text.ts';

type Entry = { manager: string; operation: string; subresource?: string; fieldsType: string; fieldsV1: Record<string, unknown> };

const entry = (manager: string, extra: Partial<Entry> = {}): Entry => ({
  manager,
  operation: manager === 'backlot' ? 'Apply' : 'Update',
  fieldsType: 'FieldsV1',
  fieldsV1: {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {} } } } } },
  },
  ...extra,
});

/** Strings that look like the key, its brackets or a string's end, where only a parser can tell. */
const TRICKY = [
  '"managedFields":[',
  '{"managedFields":[{"manager":"backlot"}]}',
  'ends in a backslash \\',
  '\\"',
  '] } [ {',
  'naïve ✓ \u2028',
  ',"managedFields":[',
];

function workload(i: number, managers: Entry[]) {
  return {
    metadata: {
      name: `w-${i}`,
      namespace: 'team-a',
      labels: { app: `w-${i}` },
      annotations: Object.fromEntries(TRICKY.map((v, k) => [`example.com/note-${k}`, v])),
      managedFields: managers,
    },
    spec: { replicas: 2, template: { metadata: { labels: { app: `w-${i}` } }, spec: { containers: [{ name: 'app', image: TRICKY[i % TRICKY.length] }] } } },
    status: { readyReplicas: 2, conditions: [{ type: 'Available', message: TRICKY[(i + 3) % TRICKY.length] }] },
  };
}

/** What the cut must give: the same object, its managedFields holding `keep`'s entries alone. */
function expected(value: unknown, keep: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => expected(v, keep));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'managedFields' && Array.isArray(v) ? v.filter((e: Entry) => e.manager === keep) : expected(v, keep)]),
  );
}

describe('managedFieldsCut', () => {
  const page = {
    kind: 'DeploymentList',
    metadata: { resourceVersion: '42' },
    items: Array.from({ length: 20 }, (_, i) =>
      workload(i, [
        entry('kube-controller-manager', { subresource: 'status' }),
        ...(i % 3 === 0 ? [] : [entry('backlot')]),
        entry('kubectl-client-side-apply'),
        ...(i % 4 === 0 ? [entry('backlot', { subresource: 'status' })] : []),
      ]),
    ),
  };
  const text = JSON.stringify(page);

  it("keeps the given manager's entries, and nothing else changes", () => {
    const cut = managedFieldsCut('backlot')(text);
    expect(cut.length).toBeLessThan(text.length);
    expect(JSON.parse(cut)).toEqual(expected(page, 'backlot'));
    // Both of Backlot's entries where it had two, none where it had none.
    const items = (JSON.parse(cut) as typeof page).items;
    expect(items.map((w) => w.metadata.managedFields.length)).toEqual(
      page.items.map((w) => w.metadata.managedFields.filter((e) => e.manager === 'backlot').length),
    );
    expect(items[4]!.metadata.managedFields.map((e) => e.subresource)).toEqual([undefined, 'status']);
  });

  it('empties every managedFields array when no manager is kept, at any depth', () => {
    const nested = { ...page, items: page.items.map((w) => ({ ...w, spec: { ...w.spec, template: { metadata: { managedFields: [entry('x')] } } } })) };
    const cut = managedFieldsCut()(JSON.stringify(nested));
    expect(JSON.parse(cut)).toEqual(expected(nested, undefined));
    expect(
      (JSON.parse(cut) as typeof nested).items.every((w) => w.metadata.managedFields.length === 0 && w.spec.template.metadata.managedFields.length === 0),
    ).toBe(true);
  });

  it('cuts a watch event line the same way', () => {
    const line = JSON.stringify({ type: 'MODIFIED', object: page.items[1] });
    expect(JSON.parse(managedFieldsCut('backlot')(line))).toEqual(expected({ type: 'MODIFIED', object: page.items[1] }, 'backlot'));
  });

  it('leaves alone the key inside a string, a key that only ends in it, and a managedFields that is not an array', () => {
    const odd = { metadata: { annotations: { a: '"managedFields":[1]' }, managedFields: null }, spec: { 'x"managedFields': [1, 2], managedFields: 'text' } };
    const text = JSON.stringify(odd);
    expect(managedFieldsCut()(text)).toBe(text);
  });

  it('returns text without the key as it is, and text it cannot follow unchanged', () => {
    const plain = JSON.stringify({ metadata: { name: 'n' } });
    expect(managedFieldsCut()(plain)).toBe(plain);
    const truncated = text.slice(0, text.indexOf('"managedFields":[') + 40);
    expect(managedFieldsCut('backlot')(truncated)).toBe(truncated);
    const unterminated = '{"metadata":{"managedFields":[{"manager":"a';
    expect(managedFieldsCut('backlot')(unterminated)).toBe(unterminated);
  });
});
