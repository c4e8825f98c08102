/** Helpers for tests of the controller runtime: a logger that records, and polling. */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';

export interface RecordedLog {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger whose JSON lines are kept in `lines` (and echoed to stderr with BACKLOT_TEST_LOGS=1). */
export function recordingLogger(level: pino.LevelWithSilent = 'debug'): { logger: Logger; lines: RecordedLog[] } {
  const lines: RecordedLog[] = [];
  const echo = process.env.BACKLOT_TEST_LOGS === '1';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(JSON.parse(line) as RecordedLog);
        if (echo) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/** Polls `check` until it returns a truthy value, then returns it; fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(options.intervalMs ?? 100);
  }
}

/** etcd's current revision, through its HTTP/JSON gateway. */
export async function etcdRevision(etcdUrl: string): Promise<number> {
  const res = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/registry/').toString('base64'), limit: 1 }) });
  if (!res.ok) throw new Error(`etcd range failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { header?: { revision?: string } };
  const revision = Number(body.header?.revision);
  if (!(revision > 0)) throw new Error(`etcd answered without a revision: ${JSON.stringify(body)}`);
  return revision;
}

/** Compacts etcd's history up to `revision`: older revisions can no longer be watched from. */
export async function etcdCompact(etcdUrl: string, revision: number): Promise<void> {
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
}
