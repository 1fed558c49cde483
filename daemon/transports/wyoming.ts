// Wyoming (Home Assistant's voice protocol) over TCP as a `handle` service: `describe` is answered with
// `info`; a `transcript` (what the user said) with the answer, streamed as handled-start, handled-chunk…,
// then `handled` (all HA reads) and handled-stop; a failure as `not-handled` with a sentence to speak.
// A connection's transcripts are answered in order; hanging up cancels them.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { GenerateRequest, ServerEvent } from '../protocol.js';
import type { Job, Scheduler } from '../scheduler.js';
import { encodeEvent, EventReader, FramingError, isInvalid, type WyomingEvent } from '../wyoming/framing.js';
import { boundPort, hostPort, listen } from './tcp-listen.js';

export interface WyomingSettings {
  host: string;
  port: number;
  /** Largest header line and largest event body accepted. */
  maxEventBytes: number;
}

type Context = Record<string, unknown>;

interface Transcript {
  text: string;
  context: Context;
}

export class WyomingTransport {
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private nextId = 1;

  constructor(
    private readonly settings: WyomingSettings,
    private readonly scheduler: Scheduler,
    /** The `info` event's data. */
    private readonly info: Record<string, unknown>,
    private readonly log: Logger,
  ) {
    this.server = createServer((sock) => this.serve(sock));
  }

  describe(): string {
    return `tcp://${hostPort(this.settings.host, this.port())}`;
  }

  port(): number {
    return boundPort(this.server, this.settings.port);
  }

  async start(): Promise<void> {
    await listen(this.server, this.settings.port, this.settings.host);
    this.log.info('wyoming: listening (handle service)', { uri: this.describe() });
  }

  stopAccepting(): void {
    this.server.close();
  }

  close(): void {
    this.server.close();
    for (const sock of this.connections) sock.destroy();
  }

  private serve(sock: Socket): void {
    this.connections.add(sock);
    const reader = new EventReader({ maxHeaderBytes: this.settings.maxEventBytes, maxBodyBytes: this.settings.maxEventBytes });
    const send = (type: string, data: Record<string, unknown> = {}) => {
      if (!sock.destroyed && sock.writable) sock.write(encodeEvent({ type, data }));
    };
    let turns: Promise<void> = Promise.resolve(); // one answer at a time: the events carry no request id
    let running: Job | undefined;
    let open = true;

    sock.on('data', (chunk: Buffer) => {
      let events;
      try {
        events = reader.feed(chunk);
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.log.warn(`wyoming: closing a connection that broke the framing: ${err.message}`, { peer: sock.remoteAddress });
        send('error', { text: `cannot read the stream: ${err.message}`, code: 'bad_request' });
        sock.end();
        sock.pause();
        return;
      }
      for (const event of events) {
        if (isInvalid(event)) {
          send('error', { text: `"${event.type}": ${event.invalid}`, code: 'bad_request' });
          continue;
        }
        const transcript = this.onEvent(event, send);
        if (transcript) {
          turns = turns.then(() => {
            if (!open) return;
            return this.answer(transcript, send, (job) => (running = job));
          });
        }
      }
    });
    sock.on('error', () => {}); // a reset by the peer; 'close' follows
    sock.on('close', () => {
      open = false;
      this.connections.delete(sock);
      if (running && running.state !== 'finished') running.cancel('cancelled');
    });
  }

  /** Answers what needs no model at once; returns a transcript to queue. */
  private onEvent(event: WyomingEvent, send: (type: string, data?: Record<string, unknown>) => void): Transcript | undefined {
    switch (event.type) {
      case 'describe':
        send('info', this.info);
        return undefined;
      case 'ping':
        send('pong', typeof event.data['text'] === 'string' ? { text: event.data['text'] } : {});
        return undefined;
      case 'transcript': {
        const text = event.data['text'];
        const context = event.data['context'];
        if (typeof text !== 'string') {
          send('error', { text: 'a transcript needs "text", a string', code: 'bad_request' });
          return undefined;
        }
        return { text, context: context && typeof context === 'object' && !Array.isArray(context) ? (context as Context) : {} };
      }
      default:
        // Streaming ASR's transcript-start/-chunk/-stop precede a full `transcript`; other programs' events are not ours.
        this.log.debug('wyoming: ignoring an event', { type: event.type });
        return undefined;
    }
  }

  /** Runs one transcript through the scheduler, streaming the answer; resolves when it is over. */
  private answer(t: Transcript, send: (type: string, data?: Record<string, unknown>) => void, track: (job: Job | undefined) => void): Promise<void> {
    const context = t.context;
    const prompt = t.text.trim();
    if (!prompt) {
      send('not-handled', { text: 'I did not hear a question.', context });
      return Promise.resolve();
    }
    const conversationId = context['conversation_id'];
    const request: GenerateRequest = {
      id: `wyoming-${this.nextId++}`,
      prompt,
      stream: true,
      // HA keeps one conversation_id per chat session: its follow-up questions see the earlier turns.
      ...(typeof conversationId === 'string' && conversationId ? { conversation: `wyoming:${conversationId}` } : {}),
    };
    return new Promise((resolve) => {
      let started = false;
      const start = () => {
        if (!started) send('handled-start', { context });
        started = true;
      };
      const sink = (event: ServerEvent) => {
        if (event.type === 'token') {
          start();
          if (event.text) send('handled-chunk', { text: event.text });
        } else if (event.type === 'done') {
          start();
          send('handled', { text: event.text.trim(), context });
          send('handled-stop');
          track(undefined);
          resolve();
        } else if (event.type === 'error') {
          if (event.code !== 'cancelled') this.log.warn(`wyoming: not handled: ${event.message}`, { id: request.id, code: event.code });
          send('not-handled', { text: `Sorry, I could not answer: ${event.message}`, context });
          if (started) send('handled-stop');
          track(undefined);
          resolve();
        }
      };
      track(this.scheduler.submit(request, sink, { source: 'wyoming' }));
    });
  }
}
