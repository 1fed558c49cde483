// Wyoming's wire format: a JSON header line {type, data?, data_length?, payload_length?}, then
// data_length bytes of JSON merged over the header's data, then payload_length bytes of payload (PCM
// audio elsewhere; no event we serve has one). Newer peers put data after the line, older ones inline:
// both are read; data is always written after the line, as the reference library does.

/** The protocol version we speak, sent in every header (handled streaming is 1.7). */
export const WYOMING_VERSION = '1.8.0';

export interface WyomingEvent {
  type: string;
  data: Record<string, unknown>;
  payload?: Buffer;
}

export function encodeEvent(event: WyomingEvent): Buffer {
  const header: Record<string, unknown> = { type: event.type, version: WYOMING_VERSION };
  const data = Object.keys(event.data).length > 0 ? Buffer.from(JSON.stringify(event.data), 'utf8') : undefined;
  if (data) header['data_length'] = data.length;
  if (event.payload?.length) header['payload_length'] = event.payload.length;
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), ...(data ? [data] : []), ...(event.payload?.length ? [event.payload] : [])]);
}

/** A stream that cannot be read on: the connection must close (after telling the peer why). */
export class FramingError extends Error {}

export interface ReaderLimits {
  /** Largest header line, inline data included. */
  maxHeaderBytes: number;
  /** Largest data_length + payload_length of one event. */
  maxBodyBytes: number;
}

interface Pending {
  type: string;
  data: Record<string, unknown>;
  dataLength: number;
  payloadLength: number;
}

/**
 * Turns the bytes of a connection into events. feed() returns the events completed by a chunk; it
 * throws FramingError when the stream breaks the format or a limit (nothing after that can be framed).
 * Data after the header that is not a JSON object is framed fine and reported as an `invalid` event,
 * so the connection survives it.
 */
export class EventReader {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;

  constructor(private readonly limits: ReaderLimits) {}

  feed(chunk: Buffer): (WyomingEvent | InvalidEvent)[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const events: (WyomingEvent | InvalidEvent)[] = [];
    for (;;) {
      if (!this.pending) {
        const newline = this.buffer.indexOf(0x0a);
        if (newline < 0) {
          if (this.buffer.length > this.limits.maxHeaderBytes) throw new FramingError(`a header line over ${this.limits.maxHeaderBytes} bytes`);
          return events;
        }
        if (newline > this.limits.maxHeaderBytes) throw new FramingError(`a header line over ${this.limits.maxHeaderBytes} bytes`);
        const line = this.buffer.subarray(0, newline).toString('utf8').trim();
        this.buffer = this.buffer.subarray(newline + 1);
        if (!line) continue; // a blank line between events is harmless
        this.pending = parseHeader(line, this.limits.maxBodyBytes);
      }
      const { type, data, dataLength, payloadLength } = this.pending;
      if (this.buffer.length < dataLength + payloadLength) return events;
      const extra = this.buffer.subarray(0, dataLength);
      const payload = this.buffer.subarray(dataLength, dataLength + payloadLength);
      this.buffer = this.buffer.subarray(dataLength + payloadLength);
      this.pending = undefined;
      let merged = data;
      if (dataLength > 0) {
        const parsed = parseObject(extra.toString('utf8'));
        if (typeof parsed === 'string') {
          events.push({ type, invalid: `its data is ${parsed}` });
          continue;
        }
        merged = { ...data, ...parsed };
      }
      events.push({ type, data: merged, ...(payloadLength > 0 ? { payload: Buffer.from(payload) } : {}) });
    }
  }
}

/** A framed event whose data could not be read. */
export interface InvalidEvent {
  type: string;
  invalid: string;
}

export function isInvalid(e: WyomingEvent | InvalidEvent): e is InvalidEvent {
  return 'invalid' in e;
}

function parseHeader(line: string, maxBodyBytes: number): Pending {
  const header = parseObject(line);
  if (typeof header === 'string') throw new FramingError(`the header line is ${header}`);
  if (typeof header['type'] !== 'string' || !header['type']) throw new FramingError('the header has no "type"');
  const length = (key: string): number => {
    const v = header[key] ?? 0;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new FramingError(`"${key}" is not a byte count`);
    return v as number;
  };
  const dataLength = length('data_length');
  const payloadLength = length('payload_length');
  if (dataLength + payloadLength > maxBodyBytes) throw new FramingError(`an event of ${dataLength + payloadLength} bytes (the limit is ${maxBodyBytes})`);
  const inline = header['data'] ?? {};
  if (typeof inline !== 'object' || inline === null || Array.isArray(inline)) throw new FramingError('the header\'s "data" is not an object');
  return { type: header['type'], data: inline as Record<string, unknown>, dataLength, payloadLength };
}

/** The JSON object in text, or what is wrong with it. */
function parseObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : 'not a JSON object';
}
