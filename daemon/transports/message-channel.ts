// What a socket connection and the MQTT request topic share: a stream of JSON messages (requests,
// cancels, status requests, power commands; requests/messages.ts), the requests still running or
// waiting by id, so that a cancel finds them, and hanging up cancels them.
import { powerEvent, statusEvent } from '../control.js';
import { errorEvent, type ServerEvent } from '../protocol.js';
import type { CheckedRequest } from '../requests/check.js';
import { parseMessage, type ParsedMessage } from '../requests/messages.js';
import type { EventSink, Job, JobOptions } from '../scheduler.js';
import type { TransportContext } from './transport.js';

export class MessageChannel {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly context: TransportContext,
    /** Names the channel in errors: "on this connection", "over MQTT". */
    private readonly where: string,
    private readonly jobOptions: JobOptions,
  ) {}

  /** Requests not yet answered in full. */
  get pending(): number {
    return this.jobs.size;
  }

  /** Handles one message; its answers go to the sink `sinkFor` gives for it (MQTT answers where the
   * message asks). A final event forgets the request before it reaches the sink. `vet` is the
   * transport's own rule for a request (where MQTT may answer): the reason to refuse it, or undefined. */
  handle(
    raw: string,
    sinkFor: (msg: ParsedMessage) => EventSink,
    options: Partial<JobOptions> = {},
    vet: (request: CheckedRequest) => string | undefined = () => undefined,
  ): ParsedMessage {
    let msg = parseMessage(raw);
    const refused = msg.kind === 'generate' ? vet(msg.request) : undefined;
    if (msg.kind === 'generate' && refused) msg = { kind: 'invalid', ...(msg.request.id !== undefined ? { id: msg.request.id } : {}), message: refused };
    this.dispatch(msg, sinkFor(msg), options);
    return msg;
  }

  /** Answers a message refused before it could be parsed (too long for the framing). */
  refuse(sink: EventSink, message: string): void {
    sink(errorEvent(null, 'bad_request', message));
  }

  /** Cancels every request of the channel (the client hung up); returns how many there were. */
  cancelAll(): number {
    const n = this.jobs.size;
    for (const job of this.jobs.values()) job.cancel('cancelled');
    this.jobs.clear();
    return n;
  }

  private dispatch(msg: ParsedMessage, sink: EventSink, options: Partial<JobOptions>): void {
    switch (msg.kind) {
      case 'invalid':
        return sink(errorEvent(msg.id, 'bad_request', msg.message));
      case 'cancel': {
        const job = this.jobs.get(msg.id);
        if (job) return job.cancel('cancelled'); // its own final event says so
        return sink(errorEvent(msg.id, 'bad_request', `no request "${msg.id}" is running or waiting ${this.where}`));
      }
      case 'status':
        return sink(statusEvent(this.context.control, msg.id));
      case 'power':
        return sink(powerEvent(this.context.control, msg.id, msg.limits));
      case 'generate': {
        const { request } = msg;
        if (request.id !== undefined && this.jobs.has(request.id)) {
          return sink(errorEvent(request.id, 'bad_request', `request id "${request.id}" is already in use ${this.where}`));
        }
        const forget = (event: ServerEvent) => {
          if (event.type !== 'token' && event.id !== null) this.jobs.delete(event.id);
          sink(event);
        };
        const job = this.context.submit(request, forget, { ...this.jobOptions, ...options });
        if (job && job.state !== 'finished') this.jobs.set(job.id, job);
      }
    }
  }
}
