// The one door of every generation request: whichever transport it came by (socket line, MQTT payload,
// Home Assistant prompt, Ollama chat or generate, Wyoming transcript, command line), a request is the
// daemon's GenerateRequest checked here, against one schema and the limits of limits.ts. The scheduler
// takes only a CheckedRequest, which nothing else makes, so no path can skip the check.
import { Ajv } from 'ajv';
import type { GenerateRequest } from '../protocol.js';
import { describeErrors, type FieldNames } from './describe-errors.js';
import { LIMITS } from './limits.js';
import { schemaProblem } from './schema-check.js';

declare const checked: unique symbol;

/** A generation request that passed checkRequest. */
export type CheckedRequest = GenerateRequest & { readonly [checked]: true };

export type CheckResult =
  | { ok: true; request: CheckedRequest }
  /** `id` is the request's id when it could be read, so that the error can be matched to it. */
  | { ok: false; id?: string; message: string };

const text = { type: 'string', maxLength: LIMITS.textLength };
const name = { type: 'string', minLength: 1, maxLength: LIMITS.idLength };

// An id may become the last level of an MQTT topic (<base>/<node_id>/response/<id>), and reply_to is one:
// no wildcard, no control character, lone surrogate or non-character (a broker drops the connection of a
// client that publishes such a topic), and an id no level separator.
const TOPIC_CHARS = String.raw`\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}+#`;
const ID_PATTERN = `^[^${TOPIC_CHARS}/]+$`;
/** A request's id (and a cancel's, a status request's, a power command's). */
export const REQUEST_ID_SCHEMA = { ...name, pattern: ID_PATTERN, description: 'may not hold "+", "#", "/", control characters or non-characters' };
const replyTo = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.replyToLength,
  pattern: `^(?!\\$)[^${TOPIC_CHARS}]+$`,
  description: 'must be a topic without "+", "#", control characters or non-characters, not starting with "$"',
};
const validId = new RegExp(ID_PATTERN, 'u');

/** The request's id, when it can be echoed in an error (and so become part of an MQTT topic). */
export function readableId(obj: Record<string, unknown>): string | undefined {
  const id = obj['id'];
  return typeof id === 'string' && id.length <= LIMITS.idLength && validId.test(id) ? id : undefined;
}

/** The JSON schema of a generate request. */
export const GENERATE_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: REQUEST_ID_SCHEMA,
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
    reply_to: replyTo,
    format: { anyOf: [{ type: 'string', enum: ['json'] }, { type: 'object' }] },
    tools: {
      type: 'array',
      maxItems: LIMITS.tools,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: LIMITS.toolNameLength },
          description: { type: 'string', maxLength: LIMITS.toolDescriptionLength },
          parameters: { type: 'object' },
        },
      },
    },
  },
} as const;

// verbose: an error carries its schema, whose description explains a pattern.
const validate = new Ajv({ allErrors: true, strict: true, verbose: true }).compile<GenerateRequest>(GENERATE_REQUEST_SCHEMA);

/** Checks a candidate request; never throws. A transport that translated the request from its own
 * protocol names the fields in messages as its clients know them. */
export function checkRequest(candidate: unknown, fieldName: FieldNames = (p) => p): CheckResult {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return { ok: false, message: 'a request must be a JSON object' };
  }
  const obj = candidate as Record<string, unknown>;
  const id = readableId(obj);
  const refuse = (message: string): CheckResult => ({ ok: false, ...(id !== undefined ? { id } : {}), message });
  if (!validate(obj)) return refuse(describeErrors(validate.errors ?? [], fieldName));
  if ((obj.prompt === undefined) === (obj.messages === undefined)) return refuse('give exactly one of "prompt" and "messages"');
  const schemaProblem = checkSchemas(obj, fieldName);
  if (schemaProblem) return refuse(schemaProblem);
  return { ok: true, request: obj as unknown as CheckedRequest };
}

/** The request's JSON schemas, each with where it sits (for messages). */
function schemasOf(req: GenerateRequest): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (typeof req.format === 'object') out.push(['format', req.format]);
  req.tools?.forEach((t, i) => t.parameters && out.push([`tools.${i}.parameters`, t.parameters]));
  return out;
}

/** Why the schemas are too deep or too large, or undefined when they are within the limits. */
function checkSchemas(req: GenerateRequest, fieldName: FieldNames): string | undefined {
  const schemas = schemasOf(req);
  for (const [where, schema] of schemas) {
    if (nestingDepth(schema, LIMITS.schemaDepth) > LIMITS.schemaDepth) {
      return `${fieldName(where)} nests deeper than ${LIMITS.schemaDepth} levels of objects and arrays`;
    }
  }
  // Within the depth limit, so stringifying cannot run out of stack.
  const bytes = schemas.reduce((n, [, s]) => n + Buffer.byteLength(JSON.stringify(s)), 0);
  if (bytes > LIMITS.schemaBytes) {
    return `the JSON schemas of format and tools take ${bytes} bytes; at most ${LIMITS.schemaBytes} are allowed`;
  }
  for (const [where, schema] of schemas) {
    const problem = schemaProblem(schema, fieldName(where));
    if (problem) return problem;
  }
  return undefined;
}

/** How deep objects and arrays nest in a JSON value (an object of scalars is 1), counted without
 * recursion and only up to just past `limit`, so that a hostile value costs no stack and little time. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}
