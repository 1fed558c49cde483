// What a transport may ask of the daemon besides answers: its state, and new power limits. daemon.ts
// implements it, so the transports stay thin adapters that only translate the wire.
import { errorEvent, type DaemonState, type PowerLimits, type ServerEvent } from './protocol.js';

export interface Control {
  status(): DaemonState;
  /** Applies and saves new power limits, returning those in force; throws an Error a client can read. */
  setPower(limits: PowerLimits): { budget_watts: number | null; max_temp_c: number | null };
  /** Caps the compute threads (null: model.threads), saved like the power limits; returns the cap in force. */
  setThreadCap(n: number | null): number;
  /** Stops the answer being generated, if any. */
  cancelRunning(): boolean;
}

/** The answer to a `status` request. */
export function statusEvent(control: Control, id: string | undefined): ServerEvent {
  return { id: id ?? null, type: 'status', ...control.status() };
}

/** The answer to a `power` command: the limits in force, or why they could not be set. */
export function powerEvent(control: Control, id: string | undefined, limits: PowerLimits): ServerEvent {
  try {
    return { id: id ?? null, type: 'power', ...control.setPower(limits) };
  } catch (err) {
    return errorEvent(id, 'internal', (err as Error).message);
  }
}
