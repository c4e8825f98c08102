/**
 * Admission: the API server refuses bad entities with a message that names the field and
 * shows what is expected, and accepts the edge cases that are valid. Each manifest is
 * applied with `kubectl apply --server-side`, as a user would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { kubectl, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';

type Spec = Record<string, unknown>;

const component = (more: Spec = {}): Spec => ({ type: 'service', lifecycle: 'production', owner: 'team-payments', ...more });
const resource = (more: Spec = {}): Spec => ({ type: 'database', owner: 'team-payments', ...more });
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

interface Case {
  what: string;
  kind: string;
  spec: Spec | undefined;
  /** The offending field as the API server names it. */
  field: string;
  /** What the message says about it. */
  says: string;
  name?: string;
}

const INVALID: Case[] = [
  { what: 'a Component without an owner', kind: 'Component', spec: { type: 'service', lifecycle: 'production' }, field: 'spec.owner', says: 'Required value' },
  { what: 'a Resource without a type', kind: 'Resource', spec: { owner: 'team-payments' }, field: 'spec.type', says: 'Required value' },
  { what: 'a Group without a type', kind: 'Group', spec: { parent: 'engineering' }, field: 'spec.type', says: 'Required value' },
  { what: 'an entity without a spec', kind: 'Domain', spec: undefined, field: 'spec', says: 'Required value' },
  {
    what: 'an empty lifecycle',
    kind: 'API',
    spec: { type: 'openapi', lifecycle: '', owner: 'team-payments' },
    field: 'spec.lifecycle',
    says: 'should be at least 1 chars long',
  },
  {
    what: 'dependsOn without a kind',
    kind: 'Component',
    spec: component({ dependsOn: ['orders-db'] }),
    field: 'spec.dependsOn[0]',
    says: 'dependsOn entry "orders-db" needs a kind: use <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db',
  },
  {
    what: 'dependencyOf without a kind, namespace given',
    kind: 'Resource',
    spec: resource({ dependencyOf: ['component:checkout', 'shop/checkout'] }),
    field: 'spec.dependencyOf[1]',
    says: 'needs a kind: use <kind>:[<namespace>/]<name>',
  },
  {
    what: 'an owner that is not a reference',
    kind: 'Component',
    spec: component({ owner: 'team payments' }),
    field: 'spec.owner',
    says: 'owner "team payments" is not an entity reference: use [<kind>:][<namespace>/]<name>',
  },
  {
    what: 'a system with two kinds',
    kind: 'Component',
    spec: component({ system: 'system:a:webshop' }),
    field: 'spec.system',
    says: 'is not an entity reference: use [<kind>:][<namespace>/]<name>',
  },
  {
    what: 'a reference with an empty namespace',
    kind: 'Domain',
    spec: { owner: 'team-payments', subdomainOf: 'domain:/commerce' },
    field: 'spec.subdomainOf',
    says: 'is not an entity reference',
  },
  {
    what: 'a namespace that is not a DNS label',
    kind: 'System',
    spec: { owner: 'group:Shop_EU/team-payments' },
    field: 'spec.owner',
    says: 'is not an entity reference',
  },
  {
    what: 'an owner of the wrong kind',
    kind: 'Component',
    spec: component({ owner: 'component:checkout' }),
    field: 'spec.owner',
    says: 'owner "component:checkout" must reference a group: use group:[<namespace>/]<name>',
  },
  {
    what: 'a provided API of the wrong kind',
    kind: 'Component',
    spec: component({ providesApis: ['component:cart'] }),
    field: 'spec.providesApis[0]',
    says: 'must reference an api',
  },
  {
    what: 'a Resource depending on an API',
    kind: 'Resource',
    spec: resource({ dependsOn: ['api:payments-api'] }),
    field: 'spec.dependsOn[0]',
    says: 'must reference a component or a resource',
  },
  {
    what: 'a domain of the wrong kind',
    kind: 'System',
    spec: { owner: 'team-payments', domain: 'group:commerce' },
    field: 'spec.domain',
    says: 'must reference a domain',
  },
  {
    what: 'a child group that is a user',
    kind: 'Group',
    spec: { type: 'team', children: ['user:jane'] },
    field: 'spec.children[0]',
    says: 'must reference a group',
  },
  { what: 'a number where a string belongs', kind: 'Component', spec: component({ type: 5 }), field: 'spec.type', says: 'expected string' },
  { what: 'a string where a list belongs', kind: 'Component', spec: component({ tags: 'java' }), field: 'spec.tags', says: 'expected list' },
  {
    what: 'an object where a string belongs',
    kind: 'API',
    spec: { type: 'openapi', lifecycle: 'production', owner: 'team-payments', definition: { openapi: '3.0.3' } },
    field: 'spec.definition',
    says: 'expected string',
  },
  { what: 'an unknown field (a typo)', kind: 'Component', spec: component({ owners: 'team-a' }), field: 'spec.owners', says: 'field not declared in schema' },
  {
    what: 'an unknown field inside a link',
    kind: 'Component',
    spec: component({ links: [{ url: 'https://example.com', href: 'https://example.com' }] }),
    field: 'spec.links[0].href',
    says: 'field not declared in schema',
  },
  {
    what: 'an overlong description',
    kind: 'System',
    spec: { owner: 'team-payments', description: 'x'.repeat(4097) },
    field: 'spec.description',
    says: 'Too long: may not be more than 4096',
  },
  {
    what: 'an overlong reference',
    kind: 'Component',
    spec: component({ owner: `group:shop/${'a'.repeat(130)}` }),
    field: 'spec.owner',
    says: 'Too long: may not be more than 137',
  },
  {
    what: 'an overlong name',
    kind: 'Domain',
    spec: { owner: 'team-payments' },
    name: 'd'.repeat(64),
    field: 'metadata.name',
    says: 'Too long: may not be more than 63',
  },
  {
    what: 'too many tags',
    kind: 'Component',
    spec: component({ tags: many(33, (i) => `t${i}`) }),
    field: 'spec.tags',
    says: 'Too many: 33: must have at most 32 items',
  },
  {
    what: 'too many dependencies',
    kind: 'Component',
    spec: component({ dependsOn: many(65, (i) => `resource:r${i}`) }),
    field: 'spec.dependsOn',
    says: 'Too many: 65: must have at most 64 items',
  },
  {
    what: 'a duplicate dependency',
    kind: 'Component',
    spec: component({ dependsOn: ['resource:orders-db', 'resource:orders-db'] }),
    field: 'spec.dependsOn',
    says: 'duplicate entries',
  },
  { what: 'a tag in upper case', kind: 'Component', spec: component({ tags: ['Java'] }), field: 'spec.tags[0]', says: 'should match' },
  {
    what: 'a link URL without a scheme',
    kind: 'Component',
    spec: component({ links: [{ url: 'grafana.example.com/d/checkout' }] }),
    field: 'spec.links[0].url',
    says: 'is not an absolute URL: use a scheme and a location',
  },
  {
    what: 'a link URL with a space',
    kind: 'Resource',
    spec: resource({ links: [{ url: 'https://example.com/a b' }] }),
    field: 'spec.links[0].url',
    says: 'is not an absolute URL',
  },
  { what: 'a link without a URL', kind: 'Group', spec: { type: 'team', links: [{ title: 'Chat' }] }, field: 'spec.links[0].url', says: 'Required value' },
  {
    what: 'a workload kind Backlot does not claim',
    kind: 'Component',
    spec: component({ workloads: { kinds: ['Pod'] } }),
    field: 'spec.workloads.kinds[0]',
    says: 'Unsupported value: "Pod"',
  },
  {
    what: 'an empty selector',
    kind: 'Component',
    spec: component({ workloads: { selector: {} } }),
    field: 'spec.workloads.selector',
    says: 'spec.workloads.selector must have a positive requirement',
  },
  {
    what: 'a selector of DoesNotExist only, which would claim every workload of the namespace',
    kind: 'Component',
    spec: component({ workloads: { selector: { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] } } }),
    field: 'spec.workloads.selector',
    says: 'spec.workloads.selector must have a positive requirement (a matchLabels entry, or an In or Exists expression): one made only of NotIn or DoesNotExist would claim every workload of the namespace',
  },
  {
    what: 'a selector of NotIn and DoesNotExist only',
    kind: 'Resource',
    spec: resource({
      workloads: {
        selector: {
          matchLabels: {},
          matchExpressions: [
            { key: 'tier', operator: 'NotIn', values: ['db'] },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        },
      },
    }),
    field: 'spec.workloads.selector',
    says: 'must have a positive requirement',
  },
  {
    what: 'In without values',
    kind: 'Resource',
    spec: resource({ workloads: { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }),
    field: 'spec.workloads.selector.matchExpressions[0].values',
    says: 'must list at least one value for In and NotIn',
  },
  {
    what: 'a label key with a space',
    kind: 'Component',
    spec: component({ workloads: { selector: { matchLabels: { 'app name': 'x' } } } }),
    field: 'spec.workloads.selector.matchLabels',
    says: 'keys must be label keys',
  },
  {
    what: 'a bad email in a group profile',
    kind: 'Group',
    spec: { type: 'team', profile: { email: 'payments-at-example.com' } },
    field: 'spec.profile.email',
    says: 'must be of type email',
  },
];

const VALID: Array<{ what: string; kind: string; spec: Spec; name?: string }> = [
  { what: 'a kind in any case', kind: 'Component', spec: component({ owner: 'Group:Team-Payments', dependsOn: ['Resource:Orders-DB'] }) },
  {
    what: 'references into another namespace',
    kind: 'Component',
    spec: component({ owner: 'platform/team-platform', consumesApis: ['api:platform/auth-api'], dependsOn: ['component:platform/auth'] }),
  },
  { what: 'exactly 64 dependencies', kind: 'Component', spec: component({ dependsOn: many(64, (i) => `resource:r${i}`) }) },
  { what: 'exactly 32 tags in every allowed form', kind: 'Resource', spec: resource({ tags: [...many(30, (i) => `t-${i}`), 'c++', 'c#'] }) },
  { what: 'a name of exactly 63 characters', kind: 'Domain', spec: { owner: 'team-payments' }, name: 'd'.repeat(63) },
  { what: 'the longest reference', kind: 'System', spec: { owner: `group:${'n'.repeat(63)}/${'o'.repeat(63)}` } },
  { what: 'a mailto link', kind: 'Group', spec: { type: 'team', links: [{ url: 'mailto:payments@example.com', title: 'Mail' }] } },
  {
    what: 'a selector with Exists and DoesNotExist',
    kind: 'Component',
    spec: component({
      workloads: {
        selector: {
          matchExpressions: [
            { key: 'app', operator: 'Exists' },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        },
      },
    }),
  },
  {
    what: 'a selector with In beside NotIn',
    kind: 'Resource',
    spec: resource({
      workloads: {
        selector: {
          matchExpressions: [
            { key: 'tier', operator: 'NotIn', values: ['web'] },
            { key: 'app', operator: 'In', values: ['orders-db'] },
          ],
        },
      },
    }),
  },
  {
    what: 'a selector with matchLabels beside DoesNotExist',
    kind: 'Component',
    spec: component({ workloads: { selector: { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } } }),
  },
  { what: 'a selector on the label key constructor', kind: 'Component', spec: component({ workloads: { selector: { matchLabels: { constructor: 'x' } } } }) },
  {
    what: 'the largest selector: 32 labels, 16 expressions of 64 values',
    kind: 'Component',
    spec: component({
      workloads: {
        selector: {
          matchLabels: Object.fromEntries(many(32, (i) => [`example.com/k${i}`, 'v'.repeat(63)])),
          matchExpressions: many(16, (i) => ({ key: `example.com/e${i}`, operator: i % 2 === 0 ? 'NotIn' : 'In', values: many(64, (j) => `v${j}`) })),
        },
      },
    }),
  },
  { what: 'a group with a type only', kind: 'Group', spec: { type: 'team' } },
  {
    what: 'a 200 kB API definition',
    kind: 'API',
    spec: { type: 'openapi', lifecycle: 'production', owner: 'team-payments', definition: 'x: y\n'.repeat(40_000) },
  },
  { what: 'members named without a kind', kind: 'Group', spec: { type: 'team', members: ['jane.doe', 'user:default/sam'] } },
];

describe('admission of catalog entities', () => {
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    await installCrds();
    ns = await testNamespace('catalog-admission');
  });
  afterAll(async () => {
    await ns.remove();
  });

  const manifest = (kind: string, name: string, spec: Spec | undefined) =>
    stringify({ apiVersion: 'catalog.backlot.dev/v1alpha1', kind, metadata: { name, namespace: ns.name }, ...(spec ? { spec } : {}) });
  const apply = (text: string) => kubectl(['apply', '--server-side', '-f', '-'], { input: text });

  it(`covers at least fifteen invalid manifests (${INVALID.length})`, () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(15);
  });

  it.each(INVALID.map((c, i): [string, Case, number] => [c.what, c, i]))('refuses %s, naming the field', async (_what, c, i) => {
    const name = c.name ?? `invalid-${i}`;
    const result = await apply(manifest(c.kind, name, c.spec));
    expect(result.code).not.toBe(0);
    // One line of the error names the field and says what is wrong with it.
    expect(result.stderr).toMatch(new RegExp(`(?<![\\w])${escape(c.field)}: .*${escape(c.says)}`));
    // Nothing was stored.
    const got = await kubectl(['get', c.kind.toLowerCase(), name, '-n', ns.name, '--ignore-not-found', '-o', 'name']);
    expect(got.stdout).toBe('');
  });

  it.each(VALID.map((c, i) => [c.what, c, i] as const))('accepts %s', async (_what, c, i) => {
    const name = c.name ?? `valid-${i}`;
    const result = await apply(manifest(c.kind, name, c.spec));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const got = await kubectl(['get', c.kind.toLowerCase(), name, '-n', ns.name, '-o', 'json']);
    const stored = JSON.parse(got.stdout) as { spec: Spec };
    expect(stored.spec).toMatchObject(c.spec);
  });

  it('defaults the claimed workload kinds to all five', async () => {
    const result = await apply(manifest('Component', 'defaulted', component({ workloads: { selector: { matchLabels: { app: 'x' } } } })));
    expect(result.code).toBe(0);
    const got = await kubectl(['get', 'component', 'defaulted', '-n', ns.name, '-o', 'jsonpath={.spec.workloads.kinds}']);
    expect(JSON.parse(got.stdout)).toEqual(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Service']);
  });

  it('drops unknown fields sent without strict validation, so clients cannot store what the schema does not know', async () => {
    const sent = manifest('Component', 'pruned', component({ nickname: 'cashier' }));
    const result = await kubectl(['create', '--validate=false', '-f', '-'], { input: sent });
    expect(result.code).toBe(0);
    const got = await kubectl(['get', 'component', 'pruned', '-n', ns.name, '-o', 'json']);
    expect((JSON.parse(got.stdout) as { spec: Spec }).spec).not.toHaveProperty('nickname');
  });
});
