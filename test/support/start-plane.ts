/**
 * Starts a control plane in a process of its own and prints its binaries' pids as JSON,
 * then waits forever: tests kill this process to prove nothing outlives it.
 */
import { ControlPlane } from '../../src/envtest/controlplane.ts';

const plane = await ControlPlane.start();
process.stdout.write(`${JSON.stringify({ etcd: plane.etcd.pid, apiServer: plane.apiServer.pid, dir: plane.dir })}\n`);
setInterval(() => undefined, 60_000);
