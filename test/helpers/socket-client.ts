// An NDJSON client for the daemon's Unix socket: send lines, collect events, wait for answers.
import { createConnection, type Socket } from 'node:net';
import type { ServerEvent } from '../../daemon/protocol.js';
import { Changes } from './changes.js';

export class SocketClient {
  readonly events: ServerEvent[] = [];
  private buffer = '';
  private readonly changes = new Changes();
  closed = false;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop()!;
      for (const line of lines) if (line) this.events.push(JSON.parse(line) as ServerEvent);
      this.changes.changed();
    });
    sock.on('close', () => {
      this.closed = true;
      this.changes.changed();
    });
    sock.on('error', () => {});
  }

  static connect(path: string): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection({ path });
      sock.once('connect', () => resolve(new SocketClient(sock)));
      sock.once('error', reject);
    });
  }

  send(message: object | string): void {
    this.sock.write((typeof message === 'string' ? message : JSON.stringify(message)) + '\n');
  }

  /** Events of one request. */
  of(id: string | null): ServerEvent[] {
    return this.events.filter((e) => e.id === id);
  }

  /** The final event (done or error) of a request. */
  final(id: string | null): ServerEvent | undefined {
    return this.of(id).find((e) => e.type !== 'token');
  }

  waitFor<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    const events = () => JSON.stringify(this.events).slice(0, 2000);
    return this.changes.waitFor(check, timeoutMs, events, () => (this.closed ? 'connection closed' : undefined));
  }

  /** Waits for the final event of a request. */
  answer(id: string | null, timeoutMs?: number): Promise<ServerEvent> {
    return this.waitFor(() => this.final(id), timeoutMs);
  }

  close(): void {
    this.sock.destroy();
  }
}
