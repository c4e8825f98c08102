/**
 * `npm run build`: bundles the `backlot` executable, with every dependency it runs with, into
 * one ES module, dist/backlot.mjs. The image ships that file alone.
 *
 * Why a bundle: loading @kubernetes/client-node as its package tree (its generated API
 * client is over a thousand modules) costs about 0.3 s and 45 MB of resident memory at every
 * start; the same code read from one file does not. Type checking is `npm run typecheck`'s
 * job; esbuild only strips the types.
 *
 * Two more things keep the process small:
 * - Whitespace and comments go (names stay, for readable stack traces). Some bundled
 *   comments hold characters outside Latin-1, which would make V8 keep the whole 4 MB source
 *   as a two-byte string.
 * - Backlot takes two things from @kubernetes/client-node: KubeConfig (kubeconfig loading and
 *   every authentication method) and ApiException. KubeConfig's module imports the generated
 *   API client only for makeApiClient(), which Backlot never calls; the bundle gets a stand-in
 *   for that import that fails loudly if it ever is called, and leaves out some 1,500 model
 *   classes (about 15 MB resident and 0.1 s of start-up).
 */
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import esbuild, { type Plugin } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist/backlot.mjs');

/** What src/ imports from @kubernetes/client-node at run time (type imports are erased). */
const CLIENT_NODE_ENTRY = ["export { KubeConfig } from '@kubernetes/client-node/dist/config.js';", "export { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';"].join('\n');

const GENERATED_CLIENT_STAND_IN = `
const unavailable = () => { throw new Error('the generated Kubernetes API client is not part of the backlot bundle (KubeConfig.makeApiClient is not available)'); };
export function createConfiguration() { unavailable(); }
export class ServerConfiguration { constructor() { unavailable(); } }
`;

const trimClientNode: Plugin = {
  name: 'trim-client-node',
  setup(build) {
    build.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: 'client-node-entry', namespace: 'backlot' }));
    build.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => (args.importer.endsWith('/@kubernetes/client-node/dist/config.js') ? { path: 'generated-client', namespace: 'backlot' } : undefined));
    build.onLoad({ filter: /^client-node-entry$/, namespace: 'backlot' }, () => ({ contents: CLIENT_NODE_ENTRY, loader: 'js', resolveDir: ROOT }));
    build.onLoad({ filter: /^generated-client$/, namespace: 'backlot' }, () => ({ contents: GENERATED_CLIENT_STAND_IN, loader: 'js' }));
  },
};

async function main(): Promise<void> {
  await rm(join(ROOT, 'dist'), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
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
    plugins: [trimClientNode],
    logLevel: 'warning',
  });
  await chmod(BUNDLE, 0o755);
}

await main();
