/** The test operator (test/support/operator.ts) as a child process whose JSON log lines the test reads. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RecordedLog } from './runtime-helpers.ts';

const ENTRY = join(import.meta.dirname, 'operator.ts');

export class OperatorProcess {
  readonly name: string;
  readonly lines: RecordedLog[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly child: ChildProcess;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(name: string, args: readonly string[]) {
    this.name = name;
    // stdin stays open as a lifeline: the operator shuts down when it closes (this process died).
    this.child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, BACKLOT_TEST_PARENT_PIPE: '1' } });
    this.child.stdin!.on('error', () => undefined);
    let partial = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as RecordedLog);
        } catch {
          this.lines.push({ level: 60, msg: 'unparsed output', text: line });
        }
        if (process.env.BACKLOT_TEST_LOGS === '1') process.stderr.write(`[${name}] ${line}\n`);
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve({ code, signal, at: Date.now() });
      }),
    );
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  kill(signal: NodeJS.Signals): number {
    const at = Date.now();
    this.child.kill(signal);
    return at;
  }

  /** The first log line with message `msg` (and matching fields), if any. */
  find(msg: string, fields: Record<string, unknown> = {}): RecordedLog | undefined {
    return this.lines.find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
  }

  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }

  /** The identity the process logged at startup. */
  get identity(): string | undefined {
    return this.find('operator starting')?.identity as string | undefined;
  }

  /** The address a server logged it listens on. */
  address(server: 'metrics' | 'probes'): string | undefined {
    return this.find('http server listening', { server })?.address as string | undefined;
  }
}
