// The wire shapes bitnetd speaks, in one place: requests and events are the same on every transport
// (MQTT payloads, socket lines; the Ollama and Wyoming transports translate to and from them). Names are
// snake_case, as clients (and Ollama) expect. Checking a request: requests/check.ts; its limits:
// requests/limits.ts; the socket's and MQTT's other messages: requests/messages.ts.
import type { GenerationStats } from './engine/index.js';

// ---------------------------------------------------------------------------------------------
// Requests

export interface WireMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Ask for an answer. Exactly one of `prompt` and `messages`. */
export interface GenerateRequest {
  /** Echoed on every event of this request; made up when absent. */
  id?: string;
  prompt?: string;
  messages?: WireMessage[];
  system?: string;
  max_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repeat_penalty?: number;
  seed?: number;
  /** Strings that end the answer (not included in it). */
  stop?: string[];
  /** Send `token` events as the answer grows (default: only the final `done`). */
  stream?: boolean;
  /** Continue a conversation: earlier turns with the same name are part of the prompt. */
  conversation?: string;
  /** Give up after this long from acceptance (default: queue.deadline_ms). */
  deadline_ms?: number;
  /** MQTT without a v5 Response Topic: where to answer. */
  reply_to?: string;
  /** The answer is JSON: "json" (an object) or one that matches this JSON schema, by constrained decoding. */
  format?: 'json' | Record<string, unknown>;
  /** Tools the model may call instead of answering; a call comes back in `done` as `tool_calls`. */
  tools?: WireTool[];
}

export interface WireTool {
  name: string;
  description?: string;
  /** The arguments' JSON schema. */
  parameters?: Record<string, unknown>;
}

export interface WireToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** Stop a request sent on the same connection. */
export interface CancelRequest {
  cancel: string;
}

/** New power limits, saved so that they outlive a restart; null turns a limit off. */
export interface PowerLimits {
  budget_watts?: number | null;
  max_temp_c?: number | null;
}

/** Set the power limits at run time: answered with a `power` event. */
export interface PowerCommand {
  id?: string;
  power: PowerLimits;
}

/** Ask for the daemon's state: answered with a `status` event (what the MQTT state topic says). */
export interface StatusRequest {
  id?: string;
  status: Record<string, never>;
}

// ---------------------------------------------------------------------------------------------
// Events: every event carries the request's `id` and a `type`.

/** Why an answer ended: the engine's reasons, or the daemon's (deadline, shutdown). */
export type WireStopReason = GenerationStats['stopReason'] | 'deadline' | 'shutdown';

export interface WireStats {
  prompt_tokens: number;
  cached_tokens: number;
  generated_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  stop_reason: WireStopReason;
  /** The daemon's: the energy from the request's start to its end (prefill included). */
  energy_j?: number;
  /** energy_j over the tokens generated; null when none was. */
  joules_per_token?: number | null;
  /** True when a sensor measured it, false when the power model estimated it. */
  energy_measured?: boolean;
}

/** The energy a request took, and whether a sensor measured it. */
export interface RequestEnergy {
  joules: number;
  measured: boolean;
}

export interface TokenEvent {
  id: string;
  type: 'token';
  /** 0, 1, 2, … in the order the chunks were produced. */
  seq: number;
  text: string;
}

export interface DoneEvent extends WireStats {
  id: string;
  type: 'done';
  /** The whole answer ('' when it is a tool call). */
  text: string;
  /** The tool the model called instead of answering (requests with `tools`). */
  tool_calls?: WireToolCall[];
  /** How many token events were sent before this one. */
  seq: number;
}

export type ErrorCode =
  | 'bad_request' // malformed or invalid request: fix it and resend
  | 'busy' // the queue is full: retry later or on another board
  | 'expired' // the MQTT message expired before its turn came
  | 'deadline' // deadline_ms passed before the answer could start
  | 'prompt_too_long' // the prompt does not fit the context
  | 'cancelled' // cancelled before it started
  | 'shutting_down' // the daemon is stopping
  | 'internal'; // a bug: the log says more

export interface ErrorEvent {
  /** null when the request's id could not be read. */
  id: string | null;
  type: 'error';
  code: ErrorCode;
  message: string;
}

/** What the retained MQTT state topic, `bitnetd status` and a `status` request report. */
export interface DaemonState {
  version: string;
  model: string;
  kernel: string;
  /** The compute threads now (the power governor may run fewer than configured). */
  threads: number;
  /** The threads the governor may use: thread_limit, or less under a cap set at run time. */
  max_threads: number;
  /** The configured threads (model.threads): the most a run-time cap can allow. */
  thread_limit: number;
  busy: boolean;
  queued: number;
  requests: number;
  rejected: number;
  tokens: number;
  /** Decode speed of the last finished request. */
  tokens_per_s: number;
  /** Energy per generated token of the last finished request. */
  joules_per_token: number | null;
  /** Prompt tokens whose keys and values are kept for reuse, over every cache slot. */
  prompt_cache_tokens: number;
  power_w: number | null;
  /** rapl, ina2xx, ina3221, pi5-pmic or model. */
  power_source: string;
  /** False when power_w and the energies are the model's estimates. */
  power_measured: boolean;
  budget_watts: number | null;
  max_temp_c: number | null;
  temperature_c: number | null;
  /** The firmware throttles, caps the frequency, or the supply sags (a Raspberry Pi's get_throttled). */
  throttling: boolean;
  /** The share of the time the engine may compute (below 1 when even one thread is over the budget). */
  duty_cycle: number;
  /** Joules since the daemon started. */
  energy_j: number;
  /** Each transport serving, by name, and where clients reach it (a broker URL without its password). */
  serving: Record<string, string>;
}

export interface StatusEvent extends DaemonState {
  id: string | null;
  type: 'status';
}

/** The limits in force after a power command. */
export interface PowerEvent {
  id: string | null;
  type: 'power';
  budget_watts: number | null;
  max_temp_c: number | null;
}

export type ServerEvent = TokenEvent | DoneEvent | ErrorEvent | StatusEvent | PowerEvent;

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function toWireStats(s: GenerationStats, stopReason: WireStopReason = s.stopReason, energy?: RequestEnergy): WireStats {
  const perToken = energy && s.generatedTokens > 0 ? round(energy.joules / s.generatedTokens, 3) : null;
  return {
    prompt_tokens: s.promptTokens,
    cached_tokens: s.cachedTokens,
    generated_tokens: s.generatedTokens,
    prefill_ms: round(s.prefillMs, 1),
    decode_ms: round(s.decodeMs, 1),
    prefill_tokens_per_s: round(s.prefillTokensPerS),
    decode_tokens_per_s: round(s.decodeTokensPerS),
    stop_reason: stopReason,
    ...(energy ? { energy_j: round(energy.joules, 3), joules_per_token: perToken, energy_measured: energy.measured } : {}),
  };
}

export function errorEvent(id: string | null | undefined, code: ErrorCode, message: string): ErrorEvent {
  return { id: id ?? null, type: 'error', code, message };
}
