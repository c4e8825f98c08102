/**
 * A Backstage backend with the catalog plugin and nothing else, as an adopter's
 * packages/backend/src/index.ts builds it: @backstage/backend-defaults' createBackend and
 * @backstage/plugin-catalog-backend. Its configuration comes from the `--config FILE`
 * arguments, read by Backstage's own config loader (later files override earlier ones).
 *
 *   node test/backstage/backend.ts --config app-config.yaml --config app-config.test.yaml
 *
 * Started by test/support/backstage.ts with a pipe on stdin: when the test process goes
 * away, for any reason, the backend stops. It lives in the npm workspace test/backstage,
 * whose package.json holds the Backstage packages, so they resolve from here however npm
 * lays them out.
 */
import { createBackend } from '@backstage/backend-defaults';
// A CommonJS package: from an ES module its default import is module.exports, whose own
// `default` is the plugin.
import catalogBackend from '@backstage/plugin-catalog-backend';

const backend = createBackend();
backend.add(catalogBackend.default);

// Backstage stops its backends on SIGTERM (and exits); the lifeline takes the same way out.
if (process.env.BACKLOT_TEST_PARENT_PIPE === '1') process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM')).resume();

try {
  await backend.start();
} catch (err) {
  // Backstage's logger catches uncaught errors and keeps the process alive, not ready for
  // good: exit instead, so that the test fails at once with this in the log.
  console.error(`Backstage's backend did not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
