// The daemon's events as Ollama's chunks (protocol.ts): /api/chat's message deltas and /api/generate's
// response deltas, and the final chunk with the reason and the timings in nanoseconds.
import type { DoneEvent, WireStopReason } from '../../protocol.js';
import type { OllamaChatChunk, OllamaDoneReason, OllamaGenerateChunk, OllamaTimings, OllamaToolCall } from './protocol.js';

export type OllamaChunk = OllamaChatChunk | OllamaGenerateChunk;

/** A chunk of text (or, with `done`, the final one's body); chat chunks carry it as a message. */
export function textChunk(chat: boolean, model: string, text: string, done = false): OllamaChunk {
  const common = { model, created_at: new Date().toISOString(), done };
  return chat ? { ...common, message: { role: 'assistant', content: text } } : { ...common, response: text };
}

/** The chat chunk with the model's tool calls, sent before the final one as Ollama does. */
export function toolCallChunk(model: string, calls: OllamaToolCall[], done = false): OllamaChatChunk {
  return { model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', tool_calls: calls }, done };
}

/** The last chunk: the reason and timings, with the whole text when nothing was streamed. */
export function finalChunk(chat: boolean, model: string, done: DoneEvent, totalMs: number, streamed: boolean): OllamaChunk {
  const calls = chat && !streamed ? toolCalls(done) : undefined;
  const body = calls ? toolCallChunk(model, calls, true) : textChunk(chat, model, streamed ? '' : done.text, true);
  return { ...body, done_reason: doneReason(done.stop_reason), ...timings(done, totalMs) };
}

/** Tool calls as Ollama reports them. */
export function toolCalls(done: DoneEvent): OllamaToolCall[] | undefined {
  return done.tool_calls?.map((c) => ({ function: { name: c.name, arguments: c.arguments } }));
}

function doneReason(stop: WireStopReason): OllamaDoneReason {
  return stop === 'length' || stop === 'context' ? 'length' : 'stop';
}

/** The final chunk's timings, in nanoseconds, from the daemon's stats and the request's wall time. */
function timings(done: DoneEvent, totalMs: number): OllamaTimings {
  const ns = (ms: number) => Math.round(ms * 1e6);
  return {
    total_duration: ns(totalMs),
    load_duration: 0,
    prompt_eval_count: Math.max(1, done.prompt_tokens - done.cached_tokens),
    prompt_eval_duration: ns(done.prefill_ms),
    eval_count: done.generated_tokens,
    eval_duration: ns(done.decode_ms),
  };
}
