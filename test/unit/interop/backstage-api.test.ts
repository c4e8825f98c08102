/**
 * `backlot import --from-backstage` against a local HTTP server that answers as Backstage's
 * catalog backend does (GET /api/catalog/entities/by-query with limit, filter and cursor;
 * GET /api/catalog/entity-facets): paging, the token, what is stripped and skipped, and every
 * failure a real server cannot be made to show on cue (status codes, HTML, silence, endless
 * cursors, oversized answers). The real backend is read in test/integration/backstage.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';
import { main } from '../../../src/cli/main.ts';
import { BACKSTAGE_TOKEN_ENV, DEFAULT_PAGE_SIZE, MAX_ANSWER_BYTES } from '../../../src/interop/backstage-api.ts';
import { MAX_IMPORT_DOCUMENTS } from '../../../src/interop/import.ts';
import { capture } from '../cli/io.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const TOKEN = 'secret-token-4f1c';
let server: Server;
let base: string;
let handler: Handler;
const seen: { path: string; query: URLSearchParams; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    seen.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.length = 0;
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

type Entity = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown>; [k: string]: unknown };

/** An entity as Backstage serves it: uid, etag, the location annotations, relations and status added. */
const LOCATION = 'https://git.example.com/acme/catalog/blob/main/catalog-info.yaml';
function served(kind: string, name: string, spec: Record<string, unknown>, i: number): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata: {
      namespace: 'default',
      name,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      etag: `etag-${i}`,
      annotations: {
        'backstage.io/managed-by-location': `url:${LOCATION}`,
        'backstage.io/managed-by-origin-location': `url:${LOCATION}`,
        'backstage.io/view-url': LOCATION,
      },
    },
    spec,
    relations: [{ type: 'ownedBy', targetRef: 'group:default/team-a' }],
    status: { items: [] },
  };
}

/** A catalog of `components` Components owned by team-a, the Group, and Users and a Location Backlot does not model. */
function catalog(components: number): Entity[] {
  const out: Entity[] = [served('Group', 'team-a', { type: 'team', children: [] }, 0)];
  for (let i = 1; i <= components; i++) out.push(served('Component', `svc-${i}`, { type: 'service', lifecycle: 'production', owner: 'team-a' }, i));
  for (let i = 0; i < 4; i++) out.push(served('User', `user-${i}`, { memberOf: ['team-a'] }, 1000 + i));
  out.push(served('Location', 'root', { type: 'url', target: 'https://git.example.com/catalog-info.yaml' }, 2000));
  return out;
}

/**
 * Backstage's catalog API over `entities`, as plugin-catalog-backend answers it: the filter
 * (`filter=kind=x` repeated is any of them) on the first request only, then an opaque cursor
 * that carries it; 20 entities when no limit is given; totalItems on every page.
 */
function backstage(entities: readonly Entity[], options: { token?: string } = {}): Handler {
  return (req, res, url) => {
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return json(res, 401, { error: { name: 'AuthenticationError', message: 'Missing credentials' } });
    }
    if (url.pathname === '/api/catalog/entity-facets') {
      const counts = new Map<string, number>();
      for (const e of entities) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
      return json(res, 200, { facets: { kind: [...counts].sort().map(([value, count]) => ({ value, count })) } });
    }
    if (url.pathname !== '/api/catalog/entities/by-query') return json(res, 404, { error: { name: 'NotFoundError', message: 'Not found' } });
    const limit = Number(url.searchParams.get('limit') ?? 20);
    const cursor = url.searchParams.get('cursor');
    const state = cursor
      ? (JSON.parse(Buffer.from(cursor, 'base64').toString()) as { kinds: string[]; offset: number })
      : { kinds: url.searchParams.getAll('filter').map((f) => f.replace(/^kind=/, '')), offset: 0 };
    const matching = entities.filter((e) => state.kinds.length === 0 || state.kinds.includes(e.kind.toLowerCase()));
    const items = matching.slice(state.offset, state.offset + limit);
    const next =
      state.offset + limit < matching.length ? Buffer.from(JSON.stringify({ ...state, offset: state.offset + limit })).toString('base64') : undefined;
    json(res, 200, { items, totalItems: matching.length, pageInfo: next ? { nextCursor: next } : {} });
  };
}

async function runImport(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const c = capture({ env });
  const code = await main(['import', ...args], c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe('backlot import --from-backstage', () => {
  it('reads every page with the cursor Backstage gives, asking for the modelled kinds only, with the token from BACKSTAGE_TOKEN', async () => {
    handler = backstage(catalog(250), { token: TOKEN });
    const r = await runImport(['--from-backstage', base, '--default-namespace', 'shop'], { [BACKSTAGE_TOKEN_ENV]: TOKEN });
    expect(r.stderr).toBe(
      `Imported 251 entities from the Backstage catalog at ${base}/api/catalog (251 entities read in 3 pages): Group 1, Component 250.\n` +
        'Skipped 5 entities of kinds Backlot does not model: Location 1, User 4.\n',
    );
    expect(r.code).toBe(0);
    const pages = seen.filter((s) => s.path.endsWith('/by-query'));
    expect(pages.map((p) => [p.query.get('limit'), p.query.has('cursor')])).toEqual([
      [String(DEFAULT_PAGE_SIZE), false],
      [String(DEFAULT_PAGE_SIZE), true],
      [String(DEFAULT_PAGE_SIZE), true],
    ]);
    expect(pages[0]!.query.getAll('filter')).toEqual(['kind=component', 'kind=system', 'kind=resource', 'kind=api', 'kind=group', 'kind=domain']);
    expect(pages[1]!.query.getAll('filter')).toEqual([]);
    expect(seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);

    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Entity);
    expect(objects).toHaveLength(251);
    expect(new Set(objects.map((o) => o.metadata.name)).size).toBe(251);
    // What a Backstage server adds is gone: relations, status, uid, etag, the location annotations.
    expect(objects[1]).toEqual({
      apiVersion: 'catalog.backlot.dev/v1alpha1',
      kind: 'Component',
      metadata: { name: 'svc-1', namespace: 'shop' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
    });
    expect(r.stdout).not.toContain(TOKEN);
  });

  it("keeps a backstage.io/view-url of the entity's own, and drops the one Backstage derived from its location", async () => {
    const entities = catalog(2);
    (entities[2]!.metadata.annotations as Record<string, string>)['backstage.io/view-url'] = 'https://docs.example.com/svc-2';
    handler = backstage(entities);
    const r = await runImport(['--from-backstage', base]);
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Entity);
    expect(objects.map((o) => o.metadata.annotations)).toEqual([undefined, undefined, { 'backstage.io/view-url': 'https://docs.example.com/svc-2' }]);
  });

  it('takes --token over the environment, and --page-size', async () => {
    handler = backstage(catalog(5), { token: TOKEN });
    const r = await runImport(['--from-backstage', `${base}/api/catalog/`, '--token', TOKEN, '--page-size', '2'], { [BACKSTAGE_TOKEN_ENV]: 'stale' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('(6 entities read in 3 pages): Group 1, Component 5.');
    expect(seen.filter((s) => s.path.endsWith('/by-query')).map((s) => s.query.get('limit'))).toEqual(['2', '2', '2']);
  });

  it('reads a Backstage served under a path prefix, and one that needs no token', async () => {
    const inner = backstage(catalog(1));
    handler = (req, res, url) => (url.pathname.startsWith('/backstage/') ? inner(req, res, new URL(url.href.replace('/backstage/', '/'))) : json(res, 404, {}));
    const r = await runImport(['--from-backstage', `${base}/backstage`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`from the Backstage catalog at ${base}/backstage/api/catalog (2 entities read in 1 page)`);
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it('reports an invalid entity with the catalog, its position and its reference, and prints nothing', async () => {
    const entities = catalog(2);
    entities[2]!.spec = { type: 'service', lifecycle: 'production', owner: 'team-a', dependsOn: ['orders-db'] };
    handler = backstage(entities);
    const r = await runImport(['--from-backstage', base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Nothing was imported: 1 problem from the Backstage catalog at ${base}/api/catalog (3 entities read in 1 page):\n`);
    expect(r.stderr).toContain(`  ${base}/api/catalog, document 3 (component:default/svc-2): spec.dependsOn[0]: dependsOn entry "orders-db" needs a kind`);
  });

  describe('says what went wrong, and never prints the token', () => {
    const cases: { name: string; answer: Handler; args?: string[]; env?: NodeJS.ProcessEnv; message: RegExp }[] = [
      {
        name: '401 without a token',
        answer: (_req, res) => json(res, 401, { error: { name: 'AuthenticationError', message: 'Missing credentials' } }),
        env: {},
        message:
          /GET .*\/api\/catalog\/entity-facets: 401 Unauthorized \(Backstage says: Missing credentials\): the catalog needs a token: set BACKSTAGE_TOKEN \(or pass --token\)/,
      },
      {
        name: '401 with a token',
        answer: (_req, res) => json(res, 401, { error: { name: 'AuthenticationError', message: 'Illegal token' } }),
        message: /401 Unauthorized \(Backstage says: Illegal token\): the token was refused/,
      },
      {
        name: '403',
        answer: (_req, res) => json(res, 403, { error: { name: 'NotAllowedError', message: 'Forbidden' } }),
        message: /403 Forbidden \(Backstage says: Forbidden\): the token may not read the catalog: allow its subject catalog.entity.read/,
      },
      {
        name: '404',
        answer: (_req, res) => json(res, 404, { error: { name: 'NotFoundError', message: 'Not found' } }),
        message: /404 Not Found: no Backstage catalog API here: give the Backstage backend's base URL/,
      },
      {
        name: 'an HTML page (the web app, not the backend)',
        answer: (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Backstage</title>'),
        message: /the answer is text\/html, not JSON: give the address of Backstage's backend/,
      },
      {
        name: 'JSON that does not parse',
        answer: (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"items": ['),
        message: /the answer is not valid JSON/,
      },
      {
        name: 'a redirect, not followed',
        answer: (_req, res) => res.writeHead(302, { Location: 'https://sso.example.com/login' }).end(),
        message: /302 Found: redirected to https:\/\/sso.example.com\/login; redirects are not followed \(the token would go along\)/,
      },
      {
        name: "a 500 with Backstage's message",
        answer: (_req, res) => json(res, 500, { error: { name: 'Error', message: 'database is down' } }),
        message: /500 Internal Server Error \(Backstage says: database is down\)$/m,
      },
      {
        name: 'facets without the kind facet',
        answer: (_req, res) => json(res, 200, { something: 'else' }),
        message: /the answer has no "kind" facet/,
      },
      {
        name: 'a page without items',
        answer: (req, res, url) => (url.pathname.endsWith('/entity-facets') ? backstage([])(req, res, url) : json(res, 200, { entities: [] })),
        message: /the answer has no "items" list/,
      },
      {
        name: 'the same cursor again and again',
        answer: (req, res, url) =>
          url.pathname.endsWith('/entity-facets') ? backstage([])(req, res, url) : json(res, 200, { items: [], pageInfo: { nextCursor: 'again' } }),
        message: /a page with no entities and a next cursor: stopped after 1 page, as paging would not end/,
      },
      {
        name: `more than ${MAX_IMPORT_DOCUMENTS} entities by the first page's totalItems`,
        answer: (req, res, url) =>
          url.pathname.endsWith('/entity-facets')
            ? backstage([])(req, res, url)
            : json(res, 200, { items: [], totalItems: MAX_IMPORT_DOCUMENTS + 1, pageInfo: { nextCursor: 'x' } }),
        message:
          /the catalog holds 10,001 entities of the kinds Backlot imports; one import reads 10,000 at most: export the catalog to files and import them in parts/,
      },
      {
        name: `an answer over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`,
        answer: (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"x": "${'x'.repeat(MAX_ANSWER_BYTES)}"}`),
        message: /the answer is larger than 8 MiB, the most import reads in one answer: use a smaller --page-size/,
      },
    ];
    it('no answer within --request-timeout', async () => {
      handler = () => undefined;
      const r = await runImport(['--from-backstage', base, '--request-timeout', '300ms'], { [BACKSTAGE_TOKEN_ENV]: TOKEN });
      expect(r.stderr).toMatch(/^backlot import: GET http:\/\/127\.0\.0\.1:\d+\/api\/catalog\/entity-facets: no answer within 0.3 s \(--request-timeout\)\n$/);
      expect([r.code, r.stdout]).toEqual([1, '']);
      server.closeAllConnections();
    });

    it('nothing listening', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const r = await runImport(['--from-backstage', `http://127.0.0.1:${port}`, '--token', TOKEN]);
      expect(r.stderr).toBe(
        `backlot import: GET http://127.0.0.1:${port}/api/catalog/entity-facets: cannot reach Backstage: connect ECONNREFUSED 127.0.0.1:${port}\n`,
      );
      expect([r.code, r.stdout]).toEqual([1, '']);
    });

    for (const c of cases) {
      it(c.name, async () => {
        handler = c.answer;
        const r = await runImport(['--from-backstage', base, ...(c.args ?? [])], c.env ?? { [BACKSTAGE_TOKEN_ENV]: TOKEN });
        expect(r.stderr).toMatch(/^backlot import: GET http:\/\/127\.0\.0\.1:\d+\/api\/catalog\/(entity-facets|entities\/by-query): /);
        expect(r.stderr).toMatch(c.message);
        expect(r.stderr).not.toContain(TOKEN);
        expect([r.code, r.stdout]).toEqual([1, '']);
      });
    }
  });

  describe('refuses a command line it cannot use, before any request (exit 2)', () => {
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [
        ['--from-backstage', 'https://admin:hunter2@backstage.example.com'],
        {},
        '--from-backstage: the URL holds credentials: pass the token with --token or BACKSTAGE_TOKEN instead',
      ],
      [
        ['--from-backstage', 'backstage.example.com'],
        {},
        '--from-backstage: "backstage.example.com" is not a URL: give the Backstage backend\'s address, e.g. https://backstage.example.com',
      ],
      [
        ['--from-backstage', 'ftp://backstage.example.com'],
        {},
        '--from-backstage: "ftp:" URLs are not read: give an http or https address of the Backstage backend',
      ],
      [
        ['--from-backstage', 'https://backstage.example.com/?x=1'],
        {},
        "--from-backstage: the URL has a query or fragment: give the Backstage backend's address alone, e.g. https://backstage.example.com",
      ],
      [
        ['--from-backstage', 'https://backstage.example.com', 'catalog-info.yaml'],
        {},
        '--from-backstage reads no files: drop "catalog-info.yaml", or import the files in a run of their own',
      ],
      [['--from-backstage', 'https://backstage.example.com', '--page-size', '1001'], {}, 'flag --page-size takes at most 1000, not 1001'],
      [['--from-backstage', 'https://backstage.example.com', '--page-size', '0'], {}, 'flag --page-size takes a whole number of at least 1, not "0"'],
      [
        ['--from-backstage', 'https://backstage.example.com', '--request-timeout', '30'],
        {},
        'flag --request-timeout takes a duration such as 30s or 2m, not "30"',
      ],
      [
        ['--from-backstage', 'https://backstage.example.com'],
        { [BACKSTAGE_TOKEN_ENV]: `${TOKEN}\n` },
        '--from-backstage: the token from BACKSTAGE_TOKEN is empty or holds spaces, line breaks or other characters a bearer token cannot hold',
      ],
      [
        ['--from-backstage', 'https://backstage.example.com', '--token', `Bearer ${TOKEN}`],
        {},
        '--from-backstage: the token from --token is empty or holds spaces, line breaks or other characters a bearer token cannot hold',
      ],
      [[], {}, 'name at least one file, directory, or - for standard input, or --from-backstage URL'],
      [['catalog-info.yaml', '--page-size', '10'], {}, '--page-size goes with --from-backstage URL'],
    ];
    for (const [args, env, message] of cases) {
      it(message, async () => {
        const r = await runImport(args, env);
        expect(r).toEqual({ code: 2, stdout: '', stderr: `backlot import: ${message}\nRun 'backlot import --help' for usage.\n` });
        expect(seen).toEqual([]);
      });
    }
  });
});
