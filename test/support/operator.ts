/**
 * A test operator: the real `backlot run` runtime (config, informers, leader election,
 * servers, shutdown) with the ConfigMap annotator as its only controller. Takes the flags of
 * `backlot run`; logs JSON lines to stderr.
 *
 *   node test/support/operator.ts --kubeconfig=... --leader-elect --leader-election-namespace=ns --namespaces=ns
 */
import { loadRunConfig } from '../../src/cli/run-config.ts';
import { runOperator } from '../../src/main.ts';
import { annotatorRegistration } from './operator-annotator.ts';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(sig)));
// Started by a test with a pipe on stdin: when the test process goes away, for any reason, shut down.
if (process.env.BACKLOT_TEST_PARENT_PIPE === '1') {
  process.stdin.on('end', () => controller.abort(new Error('parent gone'))).resume();
}
const config = loadRunConfig({ argv: process.argv.slice(2), env: process.env });
process.exitCode = await runOperator({
  config,
  io: { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal },
  registrations: [annotatorRegistration],
});
// The lifeline must not keep the process alive once the operator has stopped.
process.stdin.destroy();
