/**
 * A throwaway PostgreSQL server (Debian's `postgresql` package) on loopback, for tests that
 * run a real Backstage backend: a cluster of its own made with initdb in a temporary
 * directory, started on a free port, removed by stop(). It never touches a cluster the
 * machine already has.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI does) the server runs
 * as the `postgres` user the package creates. Its binaries are taken from
 * BACKLOT_TEST_POSTGRES_BIN (a directory), else from the first directory on PATH that holds
 * them all, else from Debian's /usr/lib/postgresql/<version>/bin, the newest version there.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/envtest/controlplane.ts';

const run = promisify(execFile);
const DEBIAN_DIR = '/usr/lib/postgresql';
/** The programs the server needs, from one directory. */
const PROGRAMS = ['initdb', 'postgres', 'pg_isready', 'psql'];
export const POSTGRES_BIN_ENV = 'BACKLOT_TEST_POSTGRES_BIN';
const INSTALL_HINT = `install PostgreSQL (Debian: apt-get install postgresql) or set ${POSTGRES_BIN_ENV} to the directory holding ${PROGRAMS.join(', ')}`;

export interface PostgresConnection {
  host: string;
  port: number;
  user: string;
}

async function holdsPrograms(dir: string): Promise<boolean> {
  try {
    await Promise.all(PROGRAMS.map((p) => access(join(dir, p), constants.X_OK)));
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb, postgres, pg_isready and psql. */
export async function postgresBinDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const given = env[POSTGRES_BIN_ENV];
  if (given) {
    if (await holdsPrograms(given)) return given;
    throw new Error(`${POSTGRES_BIN_ENV}=${given} does not hold ${PROGRAMS.join(', ')}`);
  }
  const versions = (await readdir(DEBIAN_DIR).catch(() => [] as string[])).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const candidates = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...versions.map((v) => join(DEBIAN_DIR, v, 'bin'))];
  for (const dir of candidates) if (await holdsPrograms(dir)) return dir;
  throw new Error(`PostgreSQL was not found: ${INSTALL_HINT}`);
}

/** As root, the uid and gid of the `postgres` user; otherwise nothing (run as ourselves). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (err) {
    throw new Error(`PostgreSQL cannot run as root and there is no user "postgres" to run it as: ${INSTALL_HINT}`, { cause: err });
  }
}

export class PostgresServer {
  readonly connection: PostgresConnection;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly bin: string;

  private constructor(child: ChildProcess, dir: string, bin: string, connection: PostgresConnection) {
    this.child = child;
    this.dir = dir;
    this.bin = bin;
    this.connection = connection;
  }

  /** initdb, then the server, until it accepts connections. The superuser is `backstage`, with trust authentication on loopback. */
  static async start(): Promise<PostgresServer> {
    const bin = await postgresBinDir();
    const user = await serverUser();
    const dir = await mkdtemp(join(tmpdir(), 'backlot-postgres-'));
    if (user) await chown(dir, user.uid, user.gid);
    const data = join(dir, 'data');
    const as = user ? { uid: user.uid, gid: user.gid } : {};
    try {
      // --no-sync and the settings below trade durability for speed: the data dies with the test.
      await run(join(bin, 'initdb'), ['-D', data, '-U', 'backstage', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...as, cwd: dir });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`, { cause: err });
    }
    const port = await freePort();
    const child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { ...as, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    const server = new PostgresServer(child, dir, bin, { host: '127.0.0.1', port, user: 'backstage' });
    const failed = new Promise<never>((_, reject) => {
      child.on('error', (err) => reject(new Error(`could not start postgres: ${err.message}`)));
      child.on('exit', (code) => reject(new Error(`postgres exited with ${code}: ${stderr}`)));
    });
    const ready = (async () => {
      for (let i = 0; i < 300; i++) {
        const probe = await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]).then(
          () => true,
          () => false,
        );
        if (probe) return;
        await sleep(100);
      }
      throw new Error(`postgres did not accept connections within 30 s: ${stderr}`);
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (err) {
      await server.stop();
      throw err;
    }
    failed.catch(() => undefined);
    return server;
  }

  /** The rows `sql` returns in `database`, each as its columns joined by tabs (psql). */
  async query(database: string, sql: string): Promise<string[]> {
    const { host, port, user } = this.connection;
    const { stdout } = await run(join(this.bin, 'psql'), [
      '-X',
      '-At',
      '-F',
      '\t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      user,
      '-d',
      database,
      '-c',
      sql,
    ]);
    return stdout.split('\n').filter(Boolean);
  }

  /** A fast shutdown (SIGINT), then the directory goes. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
