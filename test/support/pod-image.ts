/**
 * What a sandboxed replica runs (deploy-sandbox.ts), staged where its UID can read it, as an
 * image holds it: the image's own files, built as the Dockerfile builds them (its build
 * stage's COPY sources as the context, then scripts/image.sh build: the bundle and the
 * executable that loads it), and this test's Node 24 beside them. All of it lives in one
 * directory of the system's temporary directory that every user may enter; nothing is run
 * from the checkout, which may be private to its owner (a home directory of mode 0700, or
 * `mktemp -d`), and whose node_modules holds the Node binary the tests themselves run on.
 *
 * One step is not repeated: `image.sh deps`, the plain install of every dependency at its
 * locked version, which the repository's own node_modules stands in for (read by root,
 * which builds).
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, link, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './deploy.ts';

const run = promisify(execFile);

export interface DockerInstruction {
  op: string;
  args: string;
}

export interface DockerStage {
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): DockerStage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      if (k && v) args[k] = v;
    } else if (op === 'FROM') {
      const [image = '', , name] = rest.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '').split(/\s+/);
      stages.push({ from: image, ...(name ? { name } : {}), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op, args: rest });
    }
  }
  return stages;
}

export interface StagedImage {
  /** The image's /opt/backlot: bin/backlot, dist/backlot.mjs and dist/backlot-bundle.mjs. */
  dest: string;
  /** The entry point, `<dest>/bin/backlot`. */
  backlot: string;
  /** PATH for the sandboxed process: the staged Node first, as the image has its own. */
  path: string;
  remove(): Promise<void>;
}

/** A hard link where the file system allows one (the same inode, no copy), else a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
  await chmod(to, 0o755);
}

/** Builds the image's files and stages them, with Node, in a directory every user may read. */
export async function stageImage(): Promise<StagedImage> {
  const dir = await mkdtemp(join(tmpdir(), 'backlot-image-'));
  try {
    // The image's files are root's and readable by all, as COPY leaves them.
    await chmod(dir, 0o755);
    const stages = parseDockerfile(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
    const context = join(dir, 'context');
    for (const { op, args } of stages[0]!.instructions) {
      if (op !== 'COPY') continue;
      const parts = args.split(/\s+/);
      const target = parts.pop()!;
      for (const source of parts) {
        const to = target.endsWith('/') || target === './' ? join(context, target, source) : join(context, target);
        await mkdir(dirname(to), { recursive: true });
        await cp(join(REPO_ROOT, source), to, { recursive: true });
      }
    }
    // `image.sh deps` stands here: the repository's dependencies, installed from the same lock.
    await symlink(join(REPO_ROOT, 'node_modules'), join(context, 'node_modules'));
    const dest = join(dir, 'opt-backlot');
    await run('sh', ['scripts/image.sh', 'build', dest], {
      cwd: context,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        npm_config_prefer_offline: 'true',
        npm_config_update_notifier: 'false',
      },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 240_000,
    });
    await rm(context, { recursive: true, force: true });
    const nodeDir = join(dir, 'node', 'bin');
    await mkdir(nodeDir, { recursive: true });
    await chmod(join(dir, 'node'), 0o755);
    await chmod(nodeDir, 0o755);
    await linkOrCopy(process.execPath, join(nodeDir, 'node'));
    return {
      dest,
      backlot: join(dest, 'bin', 'backlot'),
      path: `${nodeDir}:/usr/local/bin:/usr/bin:/bin`,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
