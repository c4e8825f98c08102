/**
 * `npm run build`: bundles the `backlot` program, with every dependency it runs with, into
 * one ES module, dist/backlot-bundle.mjs, and writes the executable beside it,
 * dist/backlot.mjs (see LAUNCHER). The image ships those two files alone.
 *
 * Why a bundle: loading @kubernetes/client-node as its package tree (its generated API
 * client is over a thousand modules) costs start-up time and resident memory at every start;
 * the same code read from one file does not (docs/benchmarks.md has the figures for this and
 * the items below). Type checking is `npm run typecheck`'s job; esbuild only strips the types.
 *
 * More things keep the process small:
 * - Whitespace and comments go (names stay, for readable stack traces). Some bundled
 *   comments hold characters outside Latin-1, which would make V8 keep the whole source as a
 *   two-byte string.
 * - Backlot takes two things from @kubernetes/client-node: KubeConfig (kubeconfig loading and
 *   every authentication method) and ApiException. KubeConfig's module imports the generated
 *   API client only for makeApiClient(), which Backlot never calls; the bundle gets a stand-in
 *   for that import that fails loudly if it ever is called, and leaves out its model classes
 *   and what they cost at every start. The same goes for undici, which KubeConfig uses only
 *   to build that client's fetch dispatchers (Backlot's requests go through node:https with
 *   the options applyToHTTPSOptions gives).
 * - node:http is read through require (see httpThroughRequire).
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import esbuild, { type Plugin } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'src/cli/main.ts');
const BUNDLE = join(ROOT, 'dist/backlot-bundle.mjs');
const EXECUTABLE = join(ROOT, 'dist/backlot.mjs');

/**
 * The executable: the entry point's first line (the V8 settings every way of running it
 * shares), then Node.js's module compile cache switched on before the bundle loads, then the
 * program. With the cache, V8 reads the bundle's compiled code from disk instead of compiling
 * it again at each start (docs/benchmarks.md has what that saves).
 *
 * The cache lives in the user's own cache directory ($XDG_CACHE_HOME, else ~/.cache), not in
 * a directory other users can write to, so no one else can plant compiled code in it. Node.js
 * checks every entry against the source it was compiled from and skips a stale or damaged
 * one. NODE_COMPILE_CACHE=dir picks another directory and NODE_DISABLE_COMPILE_CACHE=1 turns
 * it off, as for any Node.js program. Where the directory cannot be made (the image's
 * read-only root) the program starts as it would without the cache, and says nothing.
 */
const LAUNCHER = (shebang: string): string => `${shebang}
import { existsSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

function userCacheDirectory() {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return xdg;
  try {
    return join(homedir(), '.cache');
  } catch {
    return undefined;
  }
}

// One level at a time: a recursive mkdir spins for ever where mkdir answers ENOENT under a
// parent that exists (a home directory in /proc, say).
function makeDirectory(dir) {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirectory(parent);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
}

function enableUserCompileCache() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return;
  if (process.env.NODE_COMPILE_CACHE) return enableCompileCache();
  const base = userCacheDirectory();
  if (!base) return;
  const dir = join(base, 'backlot', 'node-compile-cache');
  try {
    makeDirectory(dir);
  } catch {
    return;
  }
  enableCompileCache(dir);
}

enableUserCompileCache();
const { runAsProgram } = await import('./backlot-bundle.mjs');
await runAsProgram();
`;

/** What src/ imports from @kubernetes/client-node at run time (type imports are erased). */
const CLIENT_NODE_ENTRY = [
  "export { KubeConfig } from '@kubernetes/client-node/dist/config.js';",
  "export { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';",
].join('\n');

const GENERATED_CLIENT_STAND_IN = `
const unavailable = () => { throw new Error('the generated Kubernetes API client is not part of the backlot bundle (KubeConfig.makeApiClient is not available)'); };
export function createConfiguration() { unavailable(); }
export class ServerConfiguration { constructor() { unavailable(); } }
`;

/** KubeConfig builds undici dispatchers only for the generated client's fetch calls. */
const UNDICI_STAND_IN = `
const unavailable = () => { throw new Error('undici is not part of the backlot bundle (KubeConfig.applySecurityAuthentication is not available)'); };
export class Agent { constructor() { unavailable(); } }
export class ProxyAgent { constructor() { unavailable(); } }
`;

const trimClientNode: Plugin = {
  name: 'trim-client-node',
  setup(build) {
    build.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: 'client-node-entry', namespace: 'backlot' }));
    build.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.endsWith('/@kubernetes/client-node/dist/config.js') ? { path: 'undici', namespace: 'backlot' } : undefined,
    );
    build.onLoad({ filter: /^undici$/, namespace: 'backlot' }, () => ({ contents: UNDICI_STAND_IN, loader: 'js' }));
    build.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      args.importer.endsWith('/@kubernetes/client-node/dist/config.js') ? { path: 'generated-client', namespace: 'backlot' } : undefined,
    );
    build.onLoad({ filter: /^client-node-entry$/, namespace: 'backlot' }, () => ({ contents: CLIENT_NODE_ENTRY, loader: 'js', resolveDir: ROOT }));
    build.onLoad({ filter: /^generated-client$/, namespace: 'backlot' }, () => ({ contents: GENERATED_CLIENT_STAND_IN, loader: 'js' }));
  },
};

/**
 * node:http read through require rather than as an ES module: the ES module facade of a
 * built-in copies every export, and node:http's WebSocket, CloseEvent and MessageEvent are
 * getters that load Node's own fetch implementation, at every start, to answer.
 */
const HTTP_EXPORTS = [
  'Agent',
  'ClientRequest',
  'IncomingMessage',
  'METHODS',
  'OutgoingMessage',
  'STATUS_CODES',
  'Server',
  'ServerResponse',
  'createServer',
  'get',
  'globalAgent',
  'maxHeaderSize',
  'request',
  'setMaxIdleHTTPParsers',
  'validateHeaderName',
  'validateHeaderValue',
];
const httpThroughRequire: Plugin = {
  name: 'http-through-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.kind === 'import-statement' ? { path: 'node-http', namespace: 'backlot' } : undefined));
    build.onLoad({ filter: /^node-http$/, namespace: 'backlot' }, () => ({
      contents: `const http = require('node:http');\nexport default http;\nexport const { ${HTTP_EXPORTS.join(', ')} } = http;\n`,
      loader: 'js',
    }));
  },
};

async function main(): Promise<void> {
  await rm(join(ROOT, 'dist'), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minifyWhitespace: true,
    minifySyntax: true,
    // The CommonJS dependencies inside require Node.js built-ins; an ES module has no require.
    banner: { js: "import { createRequire as __backlotCreateRequire } from 'node:module'; const require = __backlotCreateRequire(import.meta.url);" },
    // Licence notices of the bundled packages, gathered at the end of the file.
    legalComments: 'eof',
    plugins: [trimClientNode, httpThroughRequire],
    logLevel: 'warning',
  });
  const shebang = (await readFile(ENTRY, 'utf8')).split('\n', 1)[0]!;
  if (!shebang.startsWith('#!')) throw new Error(`${ENTRY} does not start with a #! line`);
  await writeFile(EXECUTABLE, LAUNCHER(shebang));
  await chmod(EXECUTABLE, 0o755);
}

await main();
