/**
 * The secure metrics server's certificate: read from files (a mounted Secret, as cert-manager
 * writes one: tls.crt and tls.key), else self-signed at start; and read again when the files
 * change, as controller-runtime's certwatcher does, so a renewed certificate is served
 * without a restart. Changes are seen two ways: a watch on the directory (the kubelet
 * replaces a Secret volume's files by swapping a symlink in it) and a check every 10 s, which
 * also catches what a watch misses and a directory that appears later (an optional Secret
 * created after the pod started).
 *
 * Files that are there but unusable (unreadable, not PEM, a key that does not match) stop the
 * process at start, and are logged and ignored later: the last good certificate stays.
 * Files that go away leave the last certificate in place.
 *
 * A self-signed certificate is made anew once two thirds of its validity have passed (checked
 * hourly), so a process that runs past a year never serves an expired one; a mounted
 * certificate is its issuer's to renew.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { KeyPair } from './http.ts';

export const CERT_CHECK_INTERVAL_MS = 10_000;
/** How often a self-signed certificate is checked for renewal. */
export const SELF_SIGNED_CHECK_INTERVAL_MS = 60 * 60 * 1000;
/** The share of a self-signed certificate's validity after which it is made anew. */
const RENEW_AFTER = 2 / 3;
/** Events of one change arrive in a burst; the files are read once it is over. */
const WATCH_SETTLE_MS = 100;

export interface CertificateFiles {
  dir: string;
  certFile: string;
  keyFile: string;
}

export interface ServingCertificateOptions {
  /** Where the certificate is mounted; undefined: self-signed only. */
  files: CertificateFiles | undefined;
  clock: Clock;
  logger: Logger;
  /** Makes the self-signed certificate; by default self-signed.ts, loaded only when needed. */
  selfSigned?: () => Promise<KeyPair>;
  checkIntervalMs?: number;
  selfSignedCheckIntervalMs?: number;
}

/** What a certificate says about itself, for the log. */
function describe(pair: KeyPair): { subject: string; notAfter: string; fingerprint256: string } {
  const cert = new X509Certificate(pair.cert);
  return { subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString(), fingerprint256: cert.fingerprint256 };
}

/** Throws unless `pair` is a certificate and its matching key that TLS can serve. */
function check(pair: KeyPair): void {
  createSecureContext(pair);
}

async function defaultSelfSigned(clock: Clock): Promise<KeyPair> {
  const { selfSignedServingCertificate } = await import('./self-signed.ts');
  return selfSignedServingCertificate({ names: [...new Set([hostname(), 'localhost', '127.0.0.1', '::1'])], now: new Date(clock.now()) });
}

const isMissing = (err: unknown) => (err as { code?: unknown }).code === 'ENOENT';

export class ServingCertificate {
  private pair: KeyPair;
  /** The files' text last seen, read or not; undefined while they are not there. */
  private seen: string | undefined;
  private readonly listeners: Array<(pair: KeyPair) => void> = [];
  private readonly options: ServingCertificateOptions;
  private timer: TimerHandle | undefined;
  private watcher: FSWatcher | undefined;
  private settle: TimerHandle | undefined;
  private checking: Promise<void> | undefined;
  /** Set while the certificate served is self-signed, and so ours to renew. */
  private renewal: TimerHandle | undefined;
  private stopped = false;

  private constructor(options: ServingCertificateOptions, pair: KeyPair, seen: string | undefined) {
    this.options = options;
    this.pair = pair;
    this.seen = seen;
  }

  /** Loads the certificate (files, else self-signed) and starts following the files. */
  static async start(options: ServingCertificateOptions): Promise<ServingCertificate> {
    const { files, logger } = options;
    const read = files ? await ServingCertificate.read(files) : undefined;
    let pair: KeyPair;
    if (read) {
      try {
        check(read);
      } catch (err) {
        throw new Error(`the metrics serving certificate in ${files!.dir} (${files!.certFile}, ${files!.keyFile}) is not usable: ${(err as Error).message}`, {
          cause: err,
        });
      }
      pair = read;
      logger.info({ dir: files!.dir, ...describe(pair) }, 'metrics serving certificate loaded');
    } else {
      pair = await (options.selfSigned ?? (() => defaultSelfSigned(options.clock)))();
      logger.info(
        { ...(files ? { dir: files.dir } : {}), ...describe(pair) },
        files ? 'no metrics serving certificate in the directory yet: serving a self-signed one until it appears' : 'metrics serving certificate self-signed',
      );
    }
    const certificate = new ServingCertificate(options, pair, read ? read.cert + read.key : undefined);
    if (!read) certificate.renewWhenDue();
    if (files) certificate.follow(files);
    return certificate;
  }

  /** Both files' text; undefined when either is not there. */
  private static async read(files: CertificateFiles): Promise<KeyPair | undefined> {
    try {
      const [cert, key] = await Promise.all([readFile(join(files.dir, files.certFile), 'utf8'), readFile(join(files.dir, files.keyFile), 'utf8')]);
      return { cert, key };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  get current(): KeyPair {
    return this.pair;
  }

  /** Called with each new certificate, after it has been checked. */
  onChange(listener: (pair: KeyPair) => void): void {
    this.listeners.push(listener);
  }

  /** Reads the files now and takes them when they changed and are usable. Resolves when done. */
  async reload(): Promise<void> {
    // One read at a time; a change during a read is read on the next event or tick.
    this.checking ??= this.readAndApply().finally(() => (this.checking = undefined));
    return this.checking;
  }

  stop(): void {
    this.stopped = true;
    this.renewal?.cancel();
    this.renewal = undefined;
    this.timer?.cancel();
    this.settle?.cancel();
    this.watcher?.close();
  }

  /** Checks the self-signed certificate hourly, and makes it anew once it is due. */
  private renewWhenDue(): void {
    const interval = this.options.selfSignedCheckIntervalMs ?? SELF_SIGNED_CHECK_INTERVAL_MS;
    const tick = () => {
      if (this.renewal === undefined) return;
      void this.renewIfDue().finally(() => {
        if (this.renewal !== undefined) this.renewal = this.options.clock.setTimer(interval, tick);
      });
    };
    this.renewal = this.options.clock.setTimer(interval, tick);
  }

  private async renewIfDue(): Promise<void> {
    const { clock, logger } = this.options;
    const served = new X509Certificate(this.pair.cert);
    const from = Date.parse(served.validFrom);
    const due = from + (Date.parse(served.validTo) - from) * RENEW_AFTER;
    if (clock.now() < due) return;
    let pair: KeyPair;
    try {
      pair = await (this.options.selfSigned ?? (() => defaultSelfSigned(clock)))();
      check(pair);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'self-signed metrics serving certificate not renewed: keeping the current one until the next check');
      return;
    }
    // A mounted certificate may have arrived meanwhile: it wins.
    if (this.renewal === undefined) return;
    this.pair = pair;
    logger.info(describe(pair), 'self-signed metrics serving certificate renewed');
    for (const listener of this.listeners) listener(pair);
  }

  private follow(files: CertificateFiles): void {
    const interval = this.options.checkIntervalMs ?? CERT_CHECK_INTERVAL_MS;
    const tick = () => {
      if (this.stopped) return;
      this.ensureWatch(files);
      void this.reload().finally(() => {
        if (!this.stopped) this.timer = this.options.clock.setTimer(interval, tick);
      });
    };
    this.ensureWatch(files);
    this.timer = this.options.clock.setTimer(interval, tick);
  }

  /** Watches the directory once it exists; a directory that goes away is watched again when it returns. */
  private ensureWatch(files: CertificateFiles): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(files.dir, { persistent: false }, () => {
        this.settle?.cancel();
        this.settle = this.options.clock.setTimer(WATCH_SETTLE_MS, () => void this.reload());
      });
    } catch {
      // Not there (yet): the periodic check reads it, and tries the watch again.
      return;
    }
    this.watcher.on('error', () => {
      this.watcher?.close();
      this.watcher = undefined;
    });
  }

  private async readAndApply(): Promise<void> {
    const { files, logger } = this.options;
    if (!files || this.stopped) return;
    let read: KeyPair | undefined;
    try {
      read = await ServingCertificate.read(files);
    } catch (err) {
      logger.warn({ dir: files.dir, err: (err as Error).message }, 'metrics serving certificate unreadable: keeping the current one');
      return;
    }
    const text = read ? read.cert + read.key : undefined;
    if (text === this.seen) return;
    this.seen = text;
    if (!read) {
      logger.warn({ dir: files.dir }, 'metrics serving certificate files gone: keeping the current certificate');
      return;
    }
    try {
      check(read);
    } catch (err) {
      logger.warn({ dir: files.dir, err: (err as Error).message }, 'metrics serving certificate not usable: keeping the current one');
      return;
    }
    this.pair = read;
    this.renewal?.cancel();
    this.renewal = undefined;
    logger.info({ dir: files.dir, ...describe(read) }, 'metrics serving certificate reloaded');
    for (const listener of this.listeners) listener(read);
  }
}
