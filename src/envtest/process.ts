/**
 * A child process of the local control plane (etcd, kube-apiserver, and in the realistic cluster
 * kube-controller-manager, kube-scheduler and kwok) that cannot outlive us.
 *
 * Each binary runs under a small bash wrapper that holds the read end of a pipe whose write
 * end only this process has. When this process ends for any reason, SIGKILL included, the pipe
 * closes and the wrapper kills the binary at once (a throwaway control plane has no state
 * worth a graceful stop, and a graceful API server would wait for an etcd that is also going)
 * and, if asked, removes the control plane's directory. Orderly stops send SIGTERM to the
 * binary and escalate to SIGKILL of the process group after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const WRAPPER = `
pidfile=$1; cleanup=$2; shift 2
orphaned="$pidfile.orphaned"
exec 3<&0 </dev/null
# Close every other inherited descriptor: a stray copy of a pipe's write end (ours or a
# sibling's) would keep the watchdog below from ever seeing end-of-file.
for fd in /proc/$$/fd/*; do
  fd=\${fd##*/}
  if [ "$fd" -gt 3 ]; then eval "exec $fd>&-" 2>/dev/null; fi
done
"$@" 3<&- &
child=$!
echo "$child" > "$pidfile"
# The pipe ends only when our parent has gone (an orderly stop closes it after we exit). With
# a directory to remove, the watchdog marks that before it kills, so the mark is there once the
# binary's exit wakes us. (Asking whether we were re-parented instead races with the parent's
# exit: its descriptors close before its children are handed on.) Without one it writes
# nothing: a file made in the directory while another wrapper removes it would keep it.
( while read -r _ <&3; do :; done; [ -z "$cleanup" ] || : > "$orphaned"; kill -KILL "$child" 2>/dev/null ) &
watchdog=$!
exec 3<&-
wait "$child"; status=$?
kill "$watchdog" 2>/dev/null
if [ -n "$cleanup" ] && [ -e "$orphaned" ]; then rm -rf "$cleanup"; fi
exit "$status"
`;

export interface ManagedProcessOptions {
  name: string;
  binary: string;
  args: string[];
  logPath: string;
  pidPath: string;
  /** A directory the wrapper removes when it outlives this process. */
  cleanupDir?: string;
  /** Variables added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  private readonly options: ManagedProcessOptions;
  private wrapper: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private exitCode: number | null | undefined;
  private binaryPid: number | undefined;
  private readonly onExit = () => this.killNow();

  constructor(options: ManagedProcessOptions) {
    this.options = options;
    this.name = options.name;
    this.logPath = options.logPath;
  }

  /** The pid of the binary itself (not its wrapper), once started. */
  get pid(): number | undefined {
    return this.binaryPid;
  }

  get running(): boolean {
    return this.wrapper !== undefined && this.exitCode === undefined;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    // A pid file left by an earlier run of this process would be read as the new one's.
    await rm(this.options.pidPath, { force: true });
    const log = await open(this.options.logPath, 'a');
    try {
      this.exitCode = undefined;
      this.binaryPid = undefined;
      const wrapperArgs = [this.options.pidPath, this.options.cleanupDir ?? '', this.options.binary, ...this.options.args];
      const child = spawn('/bin/bash', ['-c', WRAPPER, 'backlot-envtest', ...wrapperArgs], {
        detached: true,
        stdio: ['pipe', log.fd, log.fd],
        ...(this.options.env ? { env: { ...process.env, ...this.options.env } } : {}),
      });
      this.wrapper = child;
      this.exited = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          this.exitCode = code ?? (signal ? 128 : null);
          process.removeListener('exit', this.onExit);
          resolve(this.exitCode);
        });
        child.on('error', () => {
          this.exitCode = -1;
          resolve(-1);
        });
      });
      // A broken pipe after the wrapper has gone is expected; it must not crash the process.
      child.stdin?.on('error', () => undefined);
      process.on('exit', this.onExit);
      this.binaryPid = await this.readPid();
    } finally {
      await log.close();
    }
  }

  private async readPid(): Promise<number | undefined> {
    for (let i = 0; i < 200 && this.exitCode === undefined; i++) {
      try {
        const pid = Number((await readFile(this.options.pidPath, 'utf8')).trim());
        if (pid > 0) return pid;
      } catch {
        // not written yet
      }
      await sleep(5);
    }
    return undefined;
  }

  /** Resolves with the exit code when the process has exited, or undefined after `ms`. */
  async waitExit(ms: number): Promise<number | null | undefined> {
    if (!this.exited) return this.exitCode;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Orderly stop: SIGTERM to the binary, SIGKILL of the process group after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.wrapper || this.exitCode !== undefined) return;
    this.signal('SIGTERM');
    if ((await this.waitExit(graceMs)) === undefined) {
      this.killGroup('SIGKILL');
      await this.waitExit(5_000);
    }
    this.wrapper.stdin?.end();
  }

  /** Sends a signal to the binary itself, as a fault would. The wrapper exits with it. */
  signal(signal: NodeJS.Signals): void {
    if (!this.binaryPid || !this.running) return;
    try {
      process.kill(this.binaryPid, signal);
    } catch (err) {
      // The binary may have exited a moment before its wrapper did.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.wrapper?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }

  /** Synchronous last resort for process exit: nothing may be left running. */
  private killNow(): void {
    if (this.binaryPid) {
      try {
        process.kill(this.binaryPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.killGroup('SIGKILL');
  }

  async logTail(lines = 30): Promise<string> {
    try {
      const text = await readFile(this.logPath, 'utf8');
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n')
        .trimEnd();
    } catch {
      return '(no log written)';
    }
  }

  /** Resident set size of the binary in bytes, from /proc; undefined where not readable. */
  async rssBytes(): Promise<number | undefined> {
    if (!this.binaryPid) return undefined;
    try {
      const status = await readFile(`/proc/${this.binaryPid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }
}
