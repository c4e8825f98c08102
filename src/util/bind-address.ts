/** Where a server listens, as controller-runtime's flags write it: `:8080`, `127.0.0.1:8080`, `[::1]:8080`. */

export interface BindAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

/** `:8080`, `127.0.0.1:8080`, `[::1]:8080`; `0` disables (undefined). */
export function parseBindAddress(text: string): BindAddress | undefined | 'invalid' {
  if (text === '0') return undefined;
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) return 'invalid';
  const port = Number(match[3]);
  if (port > 65_535) return 'invalid';
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port };
}
