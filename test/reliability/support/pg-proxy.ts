import { AddressInfo, Server, Socket, createServer, connect } from 'node:net';

const COMMAND_COMPLETE = 0x43; // 'C'

/**
 * A TCP proxy in front of PostgreSQL that can lose one answer on purpose: after
 * loseNextCommitAnswer(), the server's "COMMIT" CommandComplete message on whichever connection
 * carries it next is dropped, with everything after it on that connection. The server has
 * committed; the client never learns it. (The client must not use SSL, so that the protocol
 * stream is readable; the test URLs do not.)
 */
export class PgProxy {
  private losing = false;
  private readonly sockets = new Set<Socket>();
  lostCommits = 0;

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<PgProxy> {
    let proxy!: PgProxy;
    const server = createServer((client) => proxy.relay(client, targetPort));
    proxy = new PgProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  loseNextCommitAnswer(): void {
    this.losing = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    let pending = Buffer.alloc(0);
    let blackhole = false;
    upstream.on('data', (chunk: Buffer) => {
      if (blackhole) return;
      pending = Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 5) {
        const total = 1 + pending.readUInt32BE(offset + 1);
        if (pending.length - offset < total) break;
        const type = pending[offset];
        if (this.losing && type === COMMAND_COMPLETE && pending.toString('utf8', offset + 5, offset + 11) === 'COMMIT') {
          this.losing = false;
          this.lostCommits += 1;
          blackhole = true;
          client.write(pending.subarray(0, offset));
          pending = Buffer.alloc(0);
          return;
        }
        offset += total;
      }
      client.write(pending.subarray(0, offset));
      pending = pending.subarray(offset);
    });
  }
}
