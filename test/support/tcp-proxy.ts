/**
 * A TCP proxy in front of the API server (TLS passes through untouched), so a test can cut
 * one client off the server while others keep talking to it directly: `block()` resets every
 * open connection and every new one until `unblock()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  /** Connections accepted (including those reset while blocked). */
  connections = 0;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy is not listening');
    return address.port;
  }

  block(): void {
    this.blocked = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  unblock(): void {
    this.blocked = false;
  }

  async stop(): Promise<void> {
    this.block();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.connections += 1;
    if (this.blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
