/**
 * Starts a control plane (or, with --cluster, the realistic cluster) in a process of its own and
 * prints its binaries' pids and its directory as JSON, then waits forever: tests kill this
 * process to prove nothing outlives it.
 */
import { Cluster } from '../../src/envtest/cluster.ts';
import { ControlPlane } from '../../src/envtest/controlplane.ts';

const running = process.argv.includes('--cluster') ? await Cluster.start() : await ControlPlane.start();
process.stdout.write(`${JSON.stringify({ pids: running.processes.map((p) => p.pid), dir: running.dir })}\n`);
setInterval(() => undefined, 60_000);
