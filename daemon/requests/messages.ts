// The JSON messages of the socket and the MQTT request topic, one object each: a generation request
// (checked by check.ts, as every transport's), a cancel, a status request or a power command; and the
// payload of the MQTT power command topic.
import { Ajv } from 'ajv';
import type { PowerLimits } from '../protocol.js';
import { checkRequest, readableId, REQUEST_ID_SCHEMA, type CheckedRequest } from './check.js';
import { describeErrors } from './describe-errors.js';

export type ParsedMessage =
  | { kind: 'generate'; request: CheckedRequest }
  | { kind: 'cancel'; id: string }
  | { kind: 'power'; id?: string; limits: PowerLimits }
  | { kind: 'status'; id?: string }
  /** `id` is the request's id when it could be read, so the error can be matched to it. */
  | { kind: 'invalid'; id?: string; message: string };

const name = REQUEST_ID_SCHEMA;

const CANCEL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['cancel'],
  properties: { cancel: name },
} as const;

const POWER_LIMITS_SCHEMA = {
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

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validateCancel = ajv.compile<{ cancel: string }>(CANCEL_SCHEMA);
const validatePower = ajv.compile<{ id?: string; power: PowerLimits }>(POWER_SCHEMA);
const validatePowerLimits = ajv.compile<PowerLimits>(POWER_LIMITS_SCHEMA);
const validateStatus = ajv.compile<{ id?: string; status: Record<string, never> }>(STATUS_SCHEMA);

/** Parses and validates one message (an MQTT payload or a socket line). Never throws. */
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
  const id = readableId(obj);
  const withId = id !== undefined ? { id } : {};
  if ('cancel' in obj) {
    if (!validateCancel(obj)) return { kind: 'invalid', ...withId, message: describeErrors(validateCancel.errors ?? []) };
    return { kind: 'cancel', id: obj.cancel };
  }
  if ('power' in obj) {
    if (!validatePower(obj)) return { kind: 'invalid', ...withId, message: describeErrors(validatePower.errors ?? []) };
    return { kind: 'power', ...withId, limits: obj.power };
  }
  if ('status' in obj) {
    if (!validateStatus(obj)) return { kind: 'invalid', ...withId, message: describeErrors(validateStatus.errors ?? []) };
    return { kind: 'status', ...withId };
  }
  const checked = checkRequest(obj);
  if (!checked.ok) return { kind: 'invalid', ...(checked.id !== undefined ? { id: checked.id } : {}), message: checked.message };
  return { kind: 'generate', request: checked.request };
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
