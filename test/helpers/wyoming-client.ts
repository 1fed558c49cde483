// A Wyoming client for tests: writes events as the Python reference library does (a header line with
// version and data_length, then the data) or as given bytes, and reads the server's events in order.
import { connect, type Socket } from 'node:net';
import { EventReader, isInvalid, type WyomingEvent } from '../../daemon/transports/wyoming/framing.js';
import { Changes } from './changes.js';

/** An event in the reference library's layout, data after the header line. */
export function referenceBytes(type: string, data?: Record<string, unknown>): Buffer {
  const body = data ? Buffer.from(JSON.stringify(data)) : undefined;
  const header = { type, version: '1.7.2', ...(body ? { data_length: body.length } : {}) };
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), ...(body ? [body] : [])]);
}

export class WyomingClient {
  readonly events: WyomingEvent[] = [];
  /** Header lines as sent, to check the layout. */
  readonly raw: Buffer[] = [];
  closed = false;
  private readonly changes = new Changes();
  private read = 0;

  private constructor(readonly sock: Socket) {
    const reader = new EventReader({ maxHeaderBytes: 1 << 20, maxBodyBytes: 16 << 20 });
    sock.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      for (const e of reader.feed(chunk)) if (!isInvalid(e)) this.events.push(e);
      this.changes.changed();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      this.changes.changed();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<WyomingClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, host, () => resolve(new WyomingClient(sock)));
      sock.once('error', reject);
    });
  }

  send(type: string, data?: Record<string, unknown>): void {
    this.sock.write(referenceBytes(type, data));
  }

  /** The next event not read yet. */
  next(timeoutMs = 30_000): Promise<WyomingEvent> {
    return this.changes
      .waitFor(() => this.events[this.read], timeoutMs, () => `events so far: ${this.events.map((e) => e.type).join(', ')}`, () => (this.closed && !this.events[this.read] ? 'the server closed the connection' : undefined))
      .then((e) => {
        this.read++;
        return e;
      });
  }

  /** Events up to and including the first of one of these types. */
  async until(types: string[], timeoutMs = 60_000): Promise<WyomingEvent[]> {
    const out: WyomingEvent[] = [];
    for (;;) {
      const e = await this.next(timeoutMs);
      out.push(e);
      if (types.includes(e.type)) return out;
    }
  }

  waitClosed(timeoutMs = 10_000): Promise<true> {
    return this.changes.waitFor(() => this.closed || undefined, timeoutMs, () => 'the connection is still open');
  }

  close(): void {
    this.sock.destroy();
  }
}
