// Ollama's HTTP API as bitnetd speaks it (Home Assistant's Ollama integration, ollama-python, Open
// WebUI): the request and response shapes in one place, and the schemas requests are checked against.
// Names are Ollama's own; unknown request fields are ignored, as Ollama does. These schemas check shapes
// only: the limits are those of every transport, checked on the translated request (requests/check.ts).
import { Ajv } from 'ajv';
import { describeErrors } from '../../requests/describe-errors.js';

export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** The tool a `tool` message answers (newer clients). */
  tool_name?: string;
}

export interface OllamaTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** The `options` bitnetd maps; others (num_gpu, mirostat, ...) are accepted and ignored. */
export interface OllamaOptions {
  num_ctx?: number;
  num_predict?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  seed?: number;
  stop?: string[];
  repeat_penalty?: number;
}

export interface OllamaChatRequest {
  model: string;
  messages?: OllamaMessage[];
  tools?: OllamaTool[];
  /** "json", or a JSON schema the answer must follow. */
  format?: 'json' | Record<string, unknown> | '';
  options?: OllamaOptions;
  stream?: boolean;
  keep_alive?: string | number;
  think?: boolean;
}

export interface OllamaGenerateRequest {
  model: string;
  prompt?: string;
  system?: string;
  /** The prompt as it is, without the chat format. */
  raw?: boolean;
  format?: 'json' | Record<string, unknown> | '';
  options?: OllamaOptions;
  stream?: boolean;
  keep_alive?: string | number;
}

export interface OllamaModelDetails {
  parent_model: string;
  format: 'gguf';
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/** An entry of /api/tags. */
export interface OllamaModelEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: OllamaModelDetails;
}

/** The timings of a final chunk, in nanoseconds as Ollama reports them. */
export interface OllamaTimings {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** `load`: a request without messages or prompt, which only loads the model. */
export type OllamaDoneReason = 'stop' | 'length' | 'load';

export interface OllamaChatChunk extends Partial<OllamaTimings> {
  model: string;
  created_at: string;
  message: { role: 'assistant'; content: string; tool_calls?: OllamaToolCall[] };
  done: boolean;
  done_reason?: OllamaDoneReason;
}

export interface OllamaGenerateChunk extends Partial<OllamaTimings> {
  model: string;
  created_at: string;
  response: string;
  done: boolean;
  done_reason?: OllamaDoneReason;
}

export interface OllamaPullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

// Ollama's own values are checked here (num_predict -1 and -2, top_p 0 and min_p 1 mean "off" and are
// dropped in translation); the ranges of what is mapped, by the daemon's check.
const options = {
  type: 'object',
  properties: {
    num_ctx: { type: 'integer', minimum: 1 },
    num_predict: { type: 'integer', minimum: -2 },
    temperature: { type: 'number' },
    top_k: { type: 'integer' },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    min_p: { type: 'number', minimum: 0, maximum: 1 },
    seed: { type: 'integer' },
    stop: { type: 'array', items: { type: 'string' } },
    repeat_penalty: { type: 'number' },
  },
} as const;

const format = { anyOf: [{ type: 'string', enum: ['json', ''] }, { type: 'object' }] } as const;

const CHAT_SCHEMA = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['system', 'user', 'assistant', 'tool'] },
          content: { type: 'string' },
          images: { type: 'array', items: { type: 'string' } },
          tool_calls: { type: 'array' },
          tool_name: { type: 'string' },
        },
      },
    },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['function'],
        properties: {
          type: { type: 'string' },
          function: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, description: { type: 'string' }, parameters: { type: 'object' } } },
        },
      },
    },
    format,
    options,
    stream: { type: 'boolean' },
    think: { type: 'boolean' },
  },
} as const;

const GENERATE_SCHEMA = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', minLength: 1 },
    prompt: { type: 'string' },
    system: { type: 'string' },
    raw: { type: 'boolean' },
    format,
    options,
    stream: { type: 'boolean' },
  },
} as const;

const NAMED_SCHEMA = {
  type: 'object',
  properties: { model: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 }, stream: { type: 'boolean' } },
  anyOf: [{ required: ['model'] }, { required: ['name'] }],
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateChat = ajv.compile<OllamaChatRequest>(CHAT_SCHEMA);
const validateGenerate = ajv.compile<OllamaGenerateRequest>(GENERATE_SCHEMA);
const validateNamed = ajv.compile<{ model?: string; name?: string; stream?: boolean }>(NAMED_SCHEMA);

/** The body of /api/chat, or why it is not one. */
export function parseChatRequest(body: unknown): OllamaChatRequest | string {
  return validateChat(body) ? body : describeErrors(validateChat.errors ?? []);
}

/** The body of /api/generate, or why it is not one. */
export function parseGenerateRequest(body: unknown): OllamaGenerateRequest | string {
  return validateGenerate(body) ? body : describeErrors(validateGenerate.errors ?? []);
}

/** The model named by a /api/show or /api/pull body ("model", or the older "name"), or why there is none. */
export function parseModelRequest(body: unknown): { model: string; stream: boolean } | string {
  if (!validateNamed(body)) return describeErrors(validateNamed.errors ?? []);
  return { model: (body.model ?? body.name)!, stream: body.stream ?? true };
}
