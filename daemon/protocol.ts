// The wire shapes bitnetd speaks, in one place: requests and events are the same on every transport
// (MQTT payloads, socket lines). Names are snake_case, as clients (and Ollama) expect.
import { Ajv, type ErrorObject } from 'ajv';
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

export const LIMITS = {
  idLength: 128,
  textLength: 256 * 1024,
  messages: 512,
  stopStrings: 16,
  stopLength: 256,
  maxTokens: 1 << 20,
  deadlineMs: 24 * 3600 * 1000,
} as const;

const text = { type: 'string', maxLength: LIMITS.textLength };
const name = { type: 'string', minLength: 1, maxLength: LIMITS.idLength };

/** The JSON schema of a generate request. */
const GENERATE_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: name,
    prompt: text,
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.messages,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'content'],
        properties: { role: { enum: ['system', 'user', 'assistant'] }, content: text },
      },
    },
    system: text,
    max_tokens: { type: 'integer', minimum: 1, maximum: LIMITS.maxTokens },
    temperature: { type: 'number', minimum: 0, maximum: 100 },
    top_k: { type: 'integer', minimum: 0 },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    min_p: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    repeat_penalty: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    seed: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    stop: { type: 'array', maxItems: LIMITS.stopStrings, items: { type: 'string', minLength: 1, maxLength: LIMITS.stopLength } },
    stream: { type: 'boolean' },
    conversation: name,
    deadline_ms: { type: 'integer', minimum: 1, maximum: LIMITS.deadlineMs },
    reply_to: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^#+]*$' },
    format: { anyOf: [{ type: 'string', enum: ['json'] }, { type: 'object' }] },
    tools: {
      type: 'array',
      maxItems: 128,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 128 }, description: { type: 'string', maxLength: 4096 }, parameters: { type: 'object' } },
      },
    },
  },
} as const;

const CANCEL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['cancel'],
  properties: { cancel: name },
} as const;

export const POWER_LIMITS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    budget_watts: { type: 'number', nullable: true, minimum: 0, maximum: 100_000 },
    max_temp_c: { type: 'number', nullable: true, minimum: 0, maximum: 150 },
  },
} as const;

const POWER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['power'],
  properties: { id: name, power: POWER_LIMITS_SCHEMA },
} as const;

const STATUS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { id: name, status: { type: 'object', additionalProperties: false } },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateGenerate = ajv.compile<GenerateRequest>(GENERATE_REQUEST_SCHEMA);
const validateCancel = ajv.compile<CancelRequest>(CANCEL_SCHEMA);
const validatePower = ajv.compile<PowerCommand>(POWER_SCHEMA);
const validatePowerLimits = ajv.compile<PowerLimits>(POWER_LIMITS_SCHEMA);
const validateStatus = ajv.compile<StatusRequest>(STATUS_SCHEMA);

export type ParsedMessage =
  | { kind: 'generate'; request: GenerateRequest }
  | { kind: 'cancel'; id: string }
  | { kind: 'power'; id?: string; limits: PowerLimits }
  | { kind: 'status'; id?: string }
  /** `id` is the request's id when it could be read, so the error can be matched to it. */
  | { kind: 'invalid'; id?: string; message: string };

/** Parses and validates one request (an MQTT payload or a socket line). Never throws. */
export function parseMessage(raw: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { kind: 'invalid', message: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', message: 'a request must be a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  const id = typeof obj['id'] === 'string' && obj['id'].length <= LIMITS.idLength ? obj['id'] : undefined;
  if ('cancel' in obj) {
    if (!validateCancel(obj)) return invalid(id, validateCancel.errors);
    return { kind: 'cancel', id: obj.cancel };
  }
  if ('power' in obj) {
    if (!validatePower(obj)) return invalid(id, validatePower.errors);
    return { kind: 'power', ...(id !== undefined ? { id } : {}), limits: obj.power };
  }
  if ('status' in obj) {
    if (!validateStatus(obj)) return invalid(id, validateStatus.errors);
    return { kind: 'status', ...(id !== undefined ? { id } : {}) };
  }
  if (!validateGenerate(obj)) return invalid(id, validateGenerate.errors);
  if ((obj.prompt === undefined) === (obj.messages === undefined)) {
    return { kind: 'invalid', ...(id !== undefined ? { id } : {}), message: 'give exactly one of "prompt" and "messages"' };
  }
  return { kind: 'generate', request: obj };
}

/** The payload of the MQTT power command topic: a budget in watts ("4.5"), "off" (no budget), or the
 * JSON object of a power command ({"budget_watts": 4.5, "max_temp_c": 70}). A string on error. */
export function parsePowerPayload(raw: string): PowerLimits | string {
  const text = raw.trim();
  if (/^(off|none|null)$/i.test(text)) return { budget_watts: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'a power command is a budget in watts ("4.5"), "off", or JSON like {"budget_watts": 4.5, "max_temp_c": 70}';
  }
  if (typeof value === 'number') value = { budget_watts: value };
  if (!validatePowerLimits(value)) return describeErrors(validatePowerLimits.errors ?? []);
  return value;
}

function invalid(id: string | undefined, errors: ErrorObject[] | null | undefined): ParsedMessage {
  return { kind: 'invalid', ...(id !== undefined ? { id } : {}), message: describeErrors(errors ?? []) };
}

/** ajv's errors as one sentence a person can act on: `temperature must be <= 100; unknown field "foo"`. */
export function describeErrors(errors: ErrorObject[]): string {
  const parts = errors.map((e) => {
    const where = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      return `unknown field "${where ? where + '.' : ''}${field}"`;
    }
    if (e.keyword === 'enum') {
      return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    }
    return `${where || 'request'} ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(parts)].join('; ');
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
  max_threads: number;
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
