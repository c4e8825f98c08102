/**
 * The container image without a container engine: this reads the Dockerfile, copies the
 * build context its build stage copies, runs its RUN steps (scripts/image.sh, the one place
 * they are written), and runs the result as the image and deploy/deployment.yaml would: the
 * entry point `backlot run` with the Deployment's args, as UID 65532, on a read-only root,
 * against the real API server.
 *
 * The image's files are built and staged by test/support/pod-image.ts, which the deploy tests
 * share, and which repeats every step but `image.sh deps` (the repository's node_modules
 * stands in for it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/envtest/controlplane.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { kubeConfig, kubeconfigPath, kubectl, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { DEPLOY_DIR, find, kustomize, podProcess, REPO_ROOT, type DeploymentObject } from '../support/deploy.ts';
import { readableCopy, SandboxedProcess } from '../support/deploy-sandbox.ts';
import { parseDockerfile, stageImage, type DockerStage, type StagedImage } from '../support/pod-image.ts';
import { eventually } from '../support/eventually.ts';
import { boundServiceAccount, installUserRoles, METRICS_READER_ROLE } from '../support/tenant.ts';

const run = promisify(execFile);

/** Whether .dockerignore (an exclude-all with exceptions) lets `path` into the build context. */
function inContext(dockerignore: string, path: string): boolean {
  let included = true;
  for (const raw of dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const matches = pattern === '*' || path === pattern || path.startsWith(`${pattern}/`);
    if (matches) included = negate;
  }
  return included;
}

describe('the container image, built and run as the Dockerfile says', () => {
  let work: string;
  let dest: string;
  let stages: DockerStage[];
  /** The image's files and Node, staged where the sandboxed UID can read them. */
  let image: StagedImage;
  let dockerignore: string;
  /** The build stage's DEST, the image path everything runs from. */
  const IMAGE_DEST = '/opt/backlot';

  beforeAll(async () => {
    stages = parseDockerfile(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
    dockerignore = await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8');
    work = await mkdtemp(join(tmpdir(), 'backlot-image-test-'));
    image = await stageImage();
    dest = image.dest;
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
    if (image) await image.remove();
  });

  it('has two stages on Node 24 whose RUN steps are scripts/image.sh, a non-root numeric USER and `backlot run` as entry point', () => {
    expect(stages.map((s) => s.from)).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    const [build, final] = stages;
    expect(build!.name).toBe('build');
    expect(build!.instructions.filter((i) => i.op === 'RUN').map((i) => i.args)).toEqual([
      'sh scripts/image.sh deps',
      `sh scripts/image.sh build ${IMAGE_DEST}`,
    ]);
    expect(final!.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
    expect(final!.instructions.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual([`--from=build ${IMAGE_DEST} ${IMAGE_DEST}`]);
    expect(final!.instructions.find((i) => i.op === 'USER')?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(JSON.parse(final!.instructions.find((i) => i.op === 'ENTRYPOINT')!.args)).toEqual([`${IMAGE_DEST}/bin/backlot`, 'run']);
  });

  it('runs as the UID the Deployment names', async () => {
    const deployment = find<DeploymentObject>(await kustomize(process.env.BACKLOT_TEST_KUBECTL!, DEPLOY_DIR), 'Deployment', 'backlot');
    const user = stages[1]!.instructions.find((i) => i.op === 'USER')!.args;
    expect(user).toBe(`${deployment.spec.template.spec.securityContext?.runAsUser}:${deployment.spec.template.spec.securityContext?.runAsGroup}`);
  });

  it('.dockerignore lets in what the build stage copies, and keeps node_modules, dist and tests out', () => {
    const sources = stages[0]!.instructions.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect([source, inContext(dockerignore, source)]).toEqual([source, true]);
    for (const outside of ['node_modules', 'dist', 'test', 'examples', '.git', '.tmp'])
      expect([outside, inContext(dockerignore, outside)]).toEqual([outside, false]);
  });

  it('ships the bundle and its executable alone: no node_modules, no sources, and the licence notices of what it bundles', async () => {
    const files = (await readdir(dest, { recursive: true })).sort();
    expect(files).toEqual(['bin', 'bin/backlot', 'dist', 'dist/backlot-bundle.mjs', 'dist/backlot.mjs']);
    const bundle = await readFile(join(dest, 'dist/backlot-bundle.mjs'), 'utf8');
    const executable = await readFile(join(dest, 'dist/backlot.mjs'), 'utf8');
    // The executable carries the entry point's V8 settings, and loads the bundle beside it.
    expect(executable.split('\n', 1)[0]).toBe((await readFile(join(REPO_ROOT, 'src/cli/main.ts'), 'utf8')).split('\n', 1)[0]);
    expect(executable).toContain("import('./backlot-bundle.mjs')");
    // Every run-time dependency is inside: the two files import and require Node.js built-ins
    // only (and the executable, the bundle), so they run with no node_modules beside them.
    const name = String.raw`["']([\w@./:-]+)["']`;
    // `from 'x'` counts after an import or export clause only: a message such as "Cannot get
    // 'saltLength' from 'alg' argument" (in @peculiar/x509) is no import.
    const imports = (source: string) =>
      [
        ...source.matchAll(
          new RegExp(String.raw`\b(?:import|export)\s*[\w*{}\s,$]*?\bfrom\s*${name}|\bimport\s*\(\s*${name}\s*\)|\brequire\(\s*${name}\s*\)`, 'g'),
        ),
      ].map((m) => m[1] ?? m[2] ?? m[3]!);
    const notBuiltin = (s: string) => !builtinModules.includes(s.replace(/^node:/, ''));
    expect(imports(bundle).length).toBeGreaterThan(0);
    expect(imports(bundle).filter(notBuiltin)).toEqual([]);
    expect(imports(executable).filter(notBuiltin)).toEqual(['./backlot-bundle.mjs']);
    // The licence notices of what is bundled are kept, at the end.
    expect(bundle.slice(bundle.lastIndexOf('Bundled license information:'))).toMatch(/js-yaml .*@license MIT/);
    // Kept as a one-byte string by V8: no character outside Latin-1 (comments are gone).
    let wide = 0;
    for (let i = 0; i < bundle.length; i++) if (bundle.charCodeAt(i) > 0xff) wide++;
    expect(wide).toBe(0);
  });

  it('answers `backlot --help` and `backlot run --help` from the entry point', async () => {
    const entry = join(dest, 'bin/backlot');
    expect((await stat(join(dest, 'dist/backlot.mjs'))).mode & 0o111).toBe(0o111);
    const env = { PATH: image.path, NODE_ENV: 'production' };
    const help = await run(entry, ['--help'], { env });
    expect(help.stdout).toMatch(/^Usage: backlot <command>/);
    expect(help.stdout).toMatch(/^\s+run\s/m);
    expect(help.stderr).toBe('');
    const runHelp = await run(entry, ['run', '--help'], { env });
    for (const flag of [
      '--kubeconfig',
      '--namespaces',
      '--leader-elect',
      '--metrics-bind-address',
      '--metrics-secure',
      '--health-probe-bind-address',
      '--log-level',
    ])
      expect(runHelp.stdout).toContain(flag);
  });

  it("keeps Node.js's compile cache of the bundle in the user's cache directory, and runs without one where none can be made", async () => {
    const entry = join(dest, 'bin/backlot');
    const cacheHome = join(work, 'cache-home');
    const env = { PATH: image.path, NODE_ENV: 'production', XDG_CACHE_HOME: cacheHome };
    expect((await run(entry, ['--help'], { env })).stdout).toMatch(/^Usage: backlot <command>/);
    const cache = join(cacheHome, 'backlot/node-compile-cache');
    expect((await stat(cache)).mode & 0o777).toBe(0o700);
    const entries = await readdir(cache, { recursive: true, withFileTypes: true });
    expect(entries.filter((e) => e.isFile()).length).toBeGreaterThan(0);
    // NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node.js program.
    const disabledHome = join(work, 'cache-disabled');
    await run(entry, ['--help'], { env: { ...env, XDG_CACHE_HOME: disabledHome, NODE_DISABLE_COMPILE_CACHE: '1' } });
    await expect(stat(disabledHome)).rejects.toThrow(/ENOENT/);
    // A home directory where mkdir answers ENOENT under a parent that exists: no cache, no
    // error, no endless retry.
    const proc = await run(entry, ['--help'], { env: { PATH: image.path, HOME: '/proc' }, timeout: 20_000 });
    expect([proc.stdout.split('\n', 1)[0], proc.stderr]).toEqual(['Usage: backlot <command> [flags]', '']);
  });

  it('runs it in what a restricted pod gets: its UID, a read-only root, no capabilities', async () => {
    const probe = await SandboxedProcess.start({
      argv: [
        'sh',
        '-c',
        'id -u; id -g; touch /var/tmp/backlot-probe 2>/dev/null && echo writable || echo read-only; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
      ],
      env: { PATH: image.path },
      uid: 65532,
      gid: 65532,
      logPath: join(work, 'sandbox-probe.log'),
    });
    expect(await probe.exit()).toBe(0);
    expect(
      probe
        .logs()
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ').trim()),
    ).toEqual(['65532', '65532', 'read-only', 'CapEff: 0000000000000000', 'NoNewPrivs: 1', '']);
  });

  it("runs `backlot run` with the Deployment's args as UID 65532 on a read-only root: ready, leading, secure metrics with a certificate of its own, and a clean stop", async () => {
    await installCrds();
    await installUserRoles();
    const ns = await testNamespace('deploy-image');
    const reader = await boundServiceAccount(new RestClient(kubeConfig()), { namespace: ns.name, name: 'prometheus', clusterRoles: [METRICS_READER_ROLE] });
    const kubeconfig = await readableCopy(await readFile(kubeconfigPath(), 'utf8'), 'kubeconfig');
    const ports = { metricsPort: await freePort(), probePort: await freePort() };
    const deployment = find<DeploymentObject>(await kustomize(process.env.BACKLOT_TEST_KUBECTL!, DEPLOY_DIR), 'Deployment', 'backlot');
    const pod = podProcess(deployment, { namespace: ns.name, name: 'backlot-image-test', ...ports });
    expect(pod.uid).toBe(65532);
    const operator = await SandboxedProcess.start({
      // Only its own namespace: the control plane is shared with other test files' catalogs.
      argv: [join(dest, 'bin/backlot'), 'run', ...pod.flags, `--kubeconfig=${kubeconfig.path}`, `--namespaces=${ns.name}`],
      env: { ...pod.env, PATH: image.path, NODE_ENV: 'production' },
      uid: pod.uid,
      gid: pod.gid,
      logPath: join(work, 'backlot-run.log'),
    });
    try {
      await operator.waitFor(`http://127.0.0.1:${ports.probePort}/readyz`);
      expect((await fetch(`http://127.0.0.1:${ports.probePort}/healthz`)).status).toBe(200);
      // The bundle made its self-signed certificate (the mounted Secret's directory is not
      // there), and asks the API server about the token.
      const metricsUrl = `https://127.0.0.1:${ports.metricsPort}/metrics`;
      await eventually('the replica to take the lease', async () =>
        (await httpsGet(metricsUrl, { token: reader.token })).body.includes('backlot_leader 1') ? true : undefined,
      );
      expect((await httpsGet(metricsUrl)).status).toBe(401);
      expect(operator.logs()).toContain('no metrics serving certificate in the directory yet: serving a self-signed one until it appears');
      const lease = await kubectl(['get', 'lease', '-n', ns.name, 'backlot-leader', '-o', 'jsonpath={.spec.holderIdentity}']);
      expect(lease.stdout).toMatch(/^backlot-image-test_/);
      expect(await operator.stop()).toBe(0);
      expect(operator.logs()).not.toMatch(/EROFS|EACCES|read-only file system/i);
    } finally {
      await operator.stop();
      await kubeconfig.remove();
      await reader.remove();
      await ns.remove();
    }
  });
});
