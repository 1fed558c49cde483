// Wyoming (Home Assistant's voice protocol) over TCP as a `handle` service: `describe` is answered with
// `info`; a `transcript` (what the user said) with the answer, streamed as handled-start, handled-chunk…,
// then `handled` (all HA reads) and handled-stop; a failure as `not-handled` with a sentence to speak.
// A connection's transcripts are answered in order; hanging up cancels them.
import { createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { ServerEvent } from '../../protocol.js';
import { checkRequest } from '../../requests/check.js';
import type { Job } from '../../scheduler.js';
import { DEFAULT_MODEL_NAME, parameterCount, parameterSize, type ServedModel } from '../served-model.js';
import { limitConnections } from '../connection-limit.js';
import { boundPort, hostPort, isLoopback, listen } from '../tcp-listen.js';
import type { Transport, TransportContext } from '../transport.js';
import { encodeEvent, EventReader, FramingError, isInvalid, type WyomingEvent } from './framing.js';
import { handleInfo } from './info.js';
import { ZeroconfAdvert } from './zeroconf.js';

type Context = Record<string, unknown>;

interface Transcript {
  text: string;
  context: Context;
}

export class WyomingTransport implements Transport {
  readonly name = 'wyoming';
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  /** The `info` event's data. */
  private readonly info: Record<string, unknown>;
  private zeroconf: ZeroconfAdvert | undefined;
  private nextId = 1;

  constructor(
    /** max_event_bytes bounds a header line and an event body. */
    private readonly settings: Config['wyoming'],
    private readonly nodeId: string,
    private readonly context: TransportContext,
    served: ServedModel,
  ) {
    this.info = handleInfo({
      programName: 'bitnetd',
      modelName: DEFAULT_MODEL_NAME,
      modelDescription: `BitNet b1.58, ${parameterSize(parameterCount(served.model))} parameters, ternary weights, from ${basename(served.model.path)}`,
      languages: settings.languages,
    });
    this.server = createServer((sock) => this.serve(sock));
    limitConnections(this.server, settings.max_connections, context.log, 'wyoming.max_connections');
  }

  describe(): string {
    return `tcp://${hostPort(this.settings.host, this.port())}`;
  }

  port(): number {
    return boundPort(this.server, this.settings.port);
  }

  async start(): Promise<void> {
    await listen(this.server, this.settings.port, this.settings.host, 'Wyoming', 'wyoming.port');
    this.context.log.info('wyoming: listening (handle service)', { uri: this.describe() });
    this.announce();
  }

  /** Over zeroconf, for Home Assistant on another machine; never on loopback, where nobody else hears it. */
  private announce(): void {
    if (!this.settings.zeroconf) return;
    if (isLoopback(this.settings.host)) {
      this.context.log.info('zeroconf: not announcing a service on loopback (set wyoming.host to 0.0.0.0 for Home Assistant on another machine)');
      return;
    }
    this.zeroconf = new ZeroconfAdvert(this.context.log);
    this.zeroconf.advertise(this.settings.name || `bitnetd-${this.nodeId}`, this.port(), this.settings.zeroconf_interfaces);
  }

  stopAccepting(): void {
    this.server.close();
  }

  async close(): Promise<void> {
    this.server.close();
    for (const sock of this.connections) sock.destroy();
    await this.zeroconf?.stop();
  }

  private serve(sock: Socket): void {
    this.connections.add(sock);
    const max = this.settings.max_event_bytes;
    const reader = new EventReader({ maxHeaderBytes: max, maxBodyBytes: max });
    const send = (type: string, data: Record<string, unknown> = {}) => {
      if (!sock.destroyed && sock.writable) sock.write(encodeEvent({ type, data }));
    };
    let turns: Promise<void> = Promise.resolve(); // one answer at a time: the events carry no request id
    let running: Job | undefined;
    let waiting = 0; // transcripts queued or being answered
    let open = true;
    if (this.settings.idle_timeout_s > 0) {
      sock.setTimeout(this.settings.idle_timeout_s * 1000, () => {
        if (waiting > 0) return; // a long answer is not idleness
        this.context.log.debug('wyoming: closing an idle connection', { peer: sock.remoteAddress });
        sock.destroy();
      });
    }

    sock.on('data', (chunk: Buffer) => {
      let events;
      try {
        events = reader.feed(chunk);
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.context.log.warn(`wyoming: closing a connection that broke the framing: ${err.message}`, { peer: sock.remoteAddress });
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
          waiting++;
          turns = turns
            .then(() => {
              if (!open) return;
              return this.answer(transcript, send, (job) => (running = job));
            })
            .finally(() => waiting--);
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
        this.context.log.debug('wyoming: ignoring an event', { type: event.type });
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
    const checked = checkRequest({
      id: `wyoming-${this.nextId++}`,
      prompt,
      stream: true,
      // HA keeps one conversation_id per chat session: its follow-up questions see the earlier turns.
      ...(typeof conversationId === 'string' && conversationId ? { conversation: `wyoming:${conversationId}` } : {}),
    });
    if (!checked.ok) {
      send('not-handled', { text: `Sorry, I could not answer: ${checked.message}`, context });
      return Promise.resolve();
    }
    const request = checked.request;
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
          if (event.code !== 'cancelled') this.context.log.warn(`wyoming: not handled: ${event.message}`, { id: request.id, code: event.code });
          send('not-handled', { text: `Sorry, I could not answer: ${event.message}`, context });
          if (started) send('handled-stop');
          track(undefined);
          resolve();
        }
      };
      track(this.context.submit(request, sink, { source: 'wyoming' }));
    });
  }
}
