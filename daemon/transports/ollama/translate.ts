// Ollama's requests as the daemon's own (protocol.ts), still to be checked (requests/check.ts) as every
// transport's; ollamaFieldName names a field of the daemon's request as an Ollama client sent it, for the
// check's messages. The events go back as Ollama's chunks in chunks.ts.
import type { GenerateRequest, WireMessage } from '../../protocol.js';
import type { OllamaChatRequest, OllamaGenerateRequest, OllamaMessage, OllamaOptions } from './protocol.js';

export interface Translated {
  /** Not checked yet. */
  request: GenerateRequest;
  /** Things the daemon does differently from what was asked, for the log. */
  notes: string[];
}

/** Ollama's sampling options as the daemon's request fields; num_ctx is capped at the context. */
function mapOptions(o: OllamaOptions | undefined, contextSize: number, notes: string[]): Partial<GenerateRequest> {
  if (!o) return {};
  if (o.num_ctx !== undefined && o.num_ctx > contextSize) {
    notes.push(`num_ctx ${o.num_ctx} is more than this model's context; using ${contextSize}`);
  }
  return {
    ...(o.num_predict !== undefined && o.num_predict > 0 ? { max_tokens: o.num_predict } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.top_k !== undefined ? { top_k: o.top_k } : {}),
    ...(o.top_p !== undefined && o.top_p > 0 ? { top_p: o.top_p } : {}),
    ...(o.min_p !== undefined && o.min_p < 1 ? { min_p: o.min_p } : {}),
    ...(o.seed !== undefined && o.seed >= 0 ? { seed: o.seed } : {}),
    ...(o.stop?.length ? { stop: o.stop } : {}),
    ...(o.repeat_penalty !== undefined ? { repeat_penalty: o.repeat_penalty } : {}),
  };
}

/** One Ollama message as the daemon's. Tool results and tool calls become text the model can read. */
function mapMessage(m: OllamaMessage, notes: string[]): WireMessage {
  if (m.images?.length) notes.push('images are not supported by this model; ignored');
  if (m.role === 'tool') return { role: 'user', content: `Result of the tool${m.tool_name ? ` ${m.tool_name}` : ''}: ${m.content}` };
  const calls = m.role === 'assistant' && m.tool_calls?.length ? m.tool_calls.map((c) => JSON.stringify({ name: c.function.name, arguments: c.function.arguments })) : [];
  return { role: m.role, content: [m.content ?? '', ...calls].filter(Boolean).join('\n') };
}

/** /api/chat as a request; null when it has no messages (Ollama then only loads the model). */
export function chatRequest(req: OllamaChatRequest, id: string, contextSize: number): Translated | null {
  if (!req.messages?.length) return null;
  const notes: string[] = [];
  const request: GenerateRequest = {
    id,
    messages: req.messages.map((m) => mapMessage(m, notes)),
    stream: true,
    ...mapOptions(req.options, contextSize, notes),
    ...(req.format ? { format: req.format } : {}),
    ...(req.tools?.length
      ? { tools: req.tools.map((t) => ({ name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), ...(t.function.parameters ? { parameters: t.function.parameters } : {}) })) }
      : {}),
  };
  if (req.think) notes.push('this model does not think aloud: "think" is ignored');
  return { request, notes };
}

/** /api/generate as a request; null when the prompt is empty (Ollama then only loads the model). */
export function generateRequest(req: OllamaGenerateRequest, id: string, contextSize: number): Translated | null {
  if (!req.prompt) return null;
  const notes: string[] = [];
  if (req.raw) notes.push('raw prompts are sent in the chat format');
  const request: GenerateRequest = {
    id,
    prompt: req.prompt,
    ...(req.system ? { system: req.system } : {}),
    stream: true,
    ...mapOptions(req.options, contextSize, notes),
    ...(req.format ? { format: req.format } : {}),
  };
  return { request, notes };
}

/** Where the daemon's request fields came from in an Ollama request. */
const FROM_OPTIONS: Record<string, string> = {
  max_tokens: 'num_predict',
  temperature: 'temperature',
  top_k: 'top_k',
  top_p: 'top_p',
  min_p: 'min_p',
  seed: 'seed',
  stop: 'stop',
  repeat_penalty: 'repeat_penalty',
};

/** A dotted path of the daemon's request as the Ollama request's: max_tokens is options.num_predict,
 * tools.0.parameters is tools.0.function.parameters. */
export function ollamaFieldName(path: string): string {
  const [first, ...rest] = path.split('.');
  const option = FROM_OPTIONS[first!];
  if (option) return ['options', option, ...rest].join('.');
  if (first === 'tools' && rest.length > 1) return ['tools', rest[0], 'function', ...rest.slice(1)].join('.');
  return path;
}
