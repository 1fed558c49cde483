// The contract every transport keeps, and what the daemon lends each one. The daemon starts, stops and
// describes transports alike and knows nothing of their protocols; a transport turns its wire into
// checked requests (requests/check.ts) and events back into its wire, and nothing else.
import type { Control } from '../control.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../scheduler.js';

export interface TransportContext {
  /** Queues a checked request; its events go to the sink. */
  submit: Scheduler['submit'];
  /** The daemon's state, power limits, thread cap, and cancelling the running answer. */
  control: Control;
  log: Logger;
  /** Calls back when something the state report shows changed (the queue, power, temperature). */
  onStateChange(listener: () => void): void;
}

export interface Transport {
  /** "socket", "mqtt", "ollama", "wyoming": for logs. */
  readonly name: string;
  /** Starts serving. Rejects with a message that names the setting to change (a ConfigError when the
   * setting itself is wrong, as a TLS file that cannot be read). */
  start(): Promise<void>;
  /** Takes no new connections; the open ones still get the answers to what they asked. */
  stopAccepting(): void;
  /** Closes every connection and lets go of what it holds (a port, a socket file, the broker). */
  close(): Promise<void>;
  /** Where clients reach it, for the ready line. */
  describe(): string;
}
