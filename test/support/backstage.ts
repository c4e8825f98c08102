/**
 * A real Backstage catalog backend reading `backlot run`, for tests of what Backstage makes
 * of the operator's catalog: test/backstage/backend.ts (createBackend from
 * @backstage/backend-defaults with @backstage/plugin-catalog-backend) as a child process, on
 * a PostgreSQL database of its own (test/support/postgres.ts), configured with the
 * app-config docs/backstage.md gives, only its host and port changed to the operator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort } from '../../src/envtest/controlplane.ts';
import { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { kubeconfigPath } from './cluster.ts';
import { REPO_ROOT } from './crds.ts';
import type { PostgresConnection } from './postgres.ts';

const WORKSPACE = join(REPO_ROOT, 'test/backstage');
const ENTRY = join(WORKSPACE, 'backend.ts');

/**
 * Throws, saying how to install them, unless the workspace's Backstage packages are where
 * Node looks from test/backstage (its own node_modules, or the root's, where npm hoists them):
 * `npm install --workspaces=false` leaves them out.
 */
function requireBackstagePackages(): void {
  const packages = Object.keys(
    (JSON.parse(readFileSync(join(WORKSPACE, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies,
  );
  const missing = packages.filter((p) => ![WORKSPACE, REPO_ROOT].some((dir) => existsSync(join(dir, 'node_modules', p, 'package.json'))));
  if (missing.length > 0)
    throw new Error(
      `${missing.join(' and ')} not installed: run \`npm install\` at the repository root, which installs the workspace test/backstage (not with --workspaces=false)`,
    );
}
export const BACKSTAGE_DOC = join(REPO_ROOT, 'docs/backstage.md');

/**
 * `backlot run` watching `namespaces`, and the URL a Backstage backend reads its catalog at.
 * The one place that knows where the operator serves the catalog for Backstage, and the flags
 * that make it serve it there: the plain catalog port (--catalog-bind-address), as
 * deploy/backstage opens it, since Backstage's URL reader sends no credentials.
 */
export async function startCatalogOperator(options: {
  namespaces: readonly string[];
  logPath: string;
}): Promise<{ operator: BacklotProcess; catalogUrl: string }> {
  const port = await freePort();
  const operator = await BacklotProcess.start({
    kubeconfig: kubeconfigPath(),
    logPath: options.logPath,
    extraArgs: ['--leader-elect=false', `--namespaces=${options.namespaces.join(',')}`, `--catalog-bind-address=127.0.0.1:${port}`],
  });
  return { operator, catalogUrl: `http://127.0.0.1:${port}/catalog-info.yaml` };
}

interface DocumentedConfig {
  catalog?: { locations?: { type?: string; target?: string }[] };
}

/**
 * The app-config block of docs/backstage.md: the one YAML block there whose
 * catalog.locations holds a `url` location. Throws unless there is exactly one.
 */
export function documentedAppConfig(markdown: string): string {
  const blocks = [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const configs = blocks.filter((b) => {
    const doc = parseAllDocuments(b)[0]?.toJS() as DocumentedConfig | undefined;
    return doc?.catalog?.locations?.some((l) => l.type === 'url') === true;
  });
  if (configs.length !== 1)
    throw new Error(`${BACKSTAGE_DOC} should hold one app-config block with a url location in catalog.locations, found ${configs.length}`);
  return configs[0]!;
}

/**
 * The documented app-config for a catalog served at `catalogUrl`: the documented location's
 * host and port replaced wherever they appear, and nothing else. Throws if the documented
 * location then still differs from `catalogUrl` (another path or scheme).
 */
export function appConfigFor(documented: string, catalogUrl: string): string {
  const target = (parseAllDocuments(documented)[0]?.toJS() as DocumentedConfig).catalog!.locations!.find((l) => l.type === 'url')!.target!;
  const text = documented.replaceAll(new URL(target).host, new URL(catalogUrl).host);
  const replaced = (parseAllDocuments(text)[0]?.toJS() as DocumentedConfig).catalog!.locations!.find((l) => l.type === 'url')!.target;
  if (replaced !== catalogUrl) throw new Error(`the documented location ${target} differs from ${catalogUrl} in more than its host and port`);
  return text;
}

/** An entity as Backstage's catalog API returns it. */
export interface BackstageEntity {
  apiVersion: string;
  kind: string;
  metadata: { namespace?: string; name: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  relations?: { type: string; targetRef: string }[];
  status?: { items?: { type: string; level: string; message: string; error?: { name: string; message: string } }[] };
}

/** `kind:namespace/name`, lower case: how Backstage writes a relation's targetRef. */
export function entityRef(e: BackstageEntity): string {
  return `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
}

export interface BackstageOptions {
  /** The app-config of the catalog (documentedAppConfig / appConfigFor). */
  appConfig: string;
  database: PostgresConnection;
  /** Where the config files and the backend's log go. */
  dir: string;
  /** How long the backend may take to start; 90 s by default. */
  startTimeoutMs?: number;
}

export class BackstageBackend {
  readonly url: string;
  readonly logPath: string;
  private readonly token: string;
  /** A static token (backend.auth.externalAccess) valid for the catalog plugin alone, as docs/backstage.md sets one up for import. */
  readonly importToken: string;
  private readonly child: ChildProcess;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess, url: string, tokens: { test: string; import: string }, logPath: string) {
    this.child = child;
    this.url = url;
    this.token = tokens.test;
    this.importToken = tokens.import;
    this.logPath = logPath;
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
  }

  /**
   * Starts the backend and waits for its readiness endpoint. Fails, with the end of the
   * backend's log, if it exits first or is not ready in time.
   */
  static async start(options: BackstageOptions): Promise<BackstageBackend> {
    requireBackstagePackages();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const token = randomBytes(24).toString('hex');
    const importToken = randomBytes(24).toString('hex');
    // What the test adds to the documented catalog configuration: where the backend listens,
    // its database, a static token through which the test reads the catalog API, and one
    // valid for the catalog plugin alone for backlot import, as docs/backstage.md sets it up.
    const local = {
      backend: {
        baseUrl: url,
        listen: { host: '127.0.0.1', port },
        database: { client: 'pg', connection: options.database },
        auth: {
          externalAccess: [
            { type: 'static', options: { token, subject: 'backlot-test' } },
            { type: 'static', options: { token: importToken, subject: 'backlot-import' }, accessRestrictions: [{ plugin: 'catalog' }] },
          ],
        },
      },
    };
    const documented = join(options.dir, 'app-config.yaml');
    const testLayer = join(options.dir, 'app-config.test.yaml');
    await writeFile(documented, options.appConfig);
    await writeFile(testLayer, stringify(local));
    const logPath = join(options.dir, 'backstage.log');
    const log = openSync(logPath, 'a');
    // stdin stays open as a lifeline: the backend stops when it closes (this process died).
    const child = spawn(process.execPath, [ENTRY, '--config', documented, '--config', testLayer], {
      cwd: REPO_ROOT,
      stdio: ['pipe', log, log],
      env: { ...process.env, NODE_ENV: 'production', BACKLOT_TEST_PARENT_PIPE: '1' },
    });
    closeSync(log);
    child.stdin!.on('error', () => undefined);
    const backend = new BackstageBackend(child, url, { test: token, import: importToken }, logPath);
    const timeoutMs = options.startTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (backend.exit)
        throw new Error(
          `Backstage's catalog backend exited (${backend.exit.code ?? backend.exit.signal}) before it was ready; the end of its log (${logPath}):\n${backend.logTail()}`,
        );
      const ready = await fetch(`${url}/.backstage/health/v1/readiness`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return backend;
      if (Date.now() > deadline) {
        await backend.stop();
        throw new Error(`Backstage's catalog backend was not ready after ${timeoutMs} ms; the end of its log (${logPath}):\n${backend.logTail()}`);
      }
      await sleep(250);
    }
  }

  /** The end of the backend's log, without the lines of the requests it served. */
  logTail(chars = 6000): string {
    try {
      const lines = readFileSync(this.logPath, 'utf8').split('\n');
      return lines
        .filter((l) => !l.includes('"type":"incomingRequest"'))
        .join('\n')
        .slice(-chars);
    } catch {
      return '(no log)';
    }
  }

  /** A GET of Backstage's catalog API (`path` under /api/catalog), with the test's token. */
  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api/catalog${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
    if (res.status !== 200) throw new Error(`GET /api/catalog${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Every entity in the catalog: GET /api/catalog/entities. */
  entities(): Promise<BackstageEntity[]> {
    return this.get<BackstageEntity[]>('/entities');
  }

  /** SIGTERM (Backstage stops its plugins and exits), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The documented app-config, read from docs/backstage.md. */
export async function readDocumentedAppConfig(): Promise<string> {
  return documentedAppConfig(await readFile(BACKSTAGE_DOC, 'utf8'));
}
