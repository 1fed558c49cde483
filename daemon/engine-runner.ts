// Runs one request on the engine: builds the prompt (with the conversation so far), streams token
// events, ends with `done` or `error`. The only place where protocol requests meet the engine.
import {
  chatMessageTokens,
  isModelFileLost,
  JsonConstraint,
  joinChat,
  parseToolCall,
  PromptTooLongError,
  ToolCallConstraint,
  toolsPrompt,
  type BitnetModel,
  type PromptCache,
  type PromptInput,
} from './engine/index.js';
import { Conversations } from './conversations.js';
import type { Logger } from './log.js';
import { errorEvent, toWireStats, type GenerateRequest, type RequestEnergy, type WireMessage } from './protocol.js';
import { bigHomeHint } from './requests/big-home-hint.js';
import { engineOptions } from './requests/engine-options.js';
import type { AbortReason, Job, Runner } from './scheduler.js';

export interface RunnerSettings {
  /** Answer length when the request does not say. */
  maxTokens: number;
}

export interface RunnerHooks {
  /** The energy meter's reading now (the power governor's); a request's energy is its difference. */
  energy?: () => RequestEnergy;
  /** Resolves when a request may take a cached session (none is being saved). */
  beforeRun?: () => Promise<void> | undefined;
  /** The model file changed under the engine: no request can be answered until a restart. */
  onModelLost?: (err: Error) => void;
}

export function createEngineRunner(
  model: BitnetModel,
  cache: PromptCache,
  conversations: Conversations,
  settings: () => RunnerSettings,
  log: Logger,
  { energy, beforeRun, onModelLost }: RunnerHooks = {},
): Runner {
  return async (job: Job) => {
    const req = job.request;
    await beforeRun?.();
    const started = Date.now();
    const energyAtStart = energy?.();
    log.debug('request started', { id: job.id, source: job.source, waited_ms: started - job.acceptedAt, text: req.prompt ?? req.messages });
    try {
      const turns = withTools(turnsOf(req, conversations), req);
      const { input, prompt } = fitToContext(model, cache.contextSize, turns);
      const session = cache.take(prompt); // the one that already holds the longest part of it
      const tools = req.tools?.length ? new ToolCallConstraint(req.tools) : undefined;
      const constraint = tools ?? (req.format ? new JsonConstraint(req.format) : undefined);
      let seq = 0;
      let held = ''; // with tools, text waits until it is known not to be a call
      const result = await session
        .generate({ tokens: prompt }, { ...engineOptions(req, settings().maxTokens), signal: job.signal, ...(constraint ? { constraint } : {}) }, (chunk) => {
          if (!req.stream || !chunk.text) return;
          if (tools && (tools.active || tools.isCall)) {
            held += chunk.text;
            return;
          }
          job.emit({ id: job.id, type: 'token', seq: seq++, text: held + chunk.text });
          held = '';
        })
        .finally(() => cache.trim());
      const call = req.tools ? parseToolCall(result.text, req.tools) : undefined;
      if (held && !call) job.emit({ id: job.id, type: 'token', seq: seq++, text: held });
      const reason = job.signal.aborted ? (job.signal.reason as AbortReason) : result.stats.stopReason;
      const energyAtEnd = energy?.();
      const used = energyAtStart && energyAtEnd ? { joules: energyAtEnd.joules - energyAtStart.joules, measured: energyAtEnd.measured } : undefined;
      const stats = toWireStats(result.stats, reason, used);
      if (req.conversation && !job.signal.aborted) {
        conversations.save(req.conversation, [...turnsAsMessages(input), { role: 'assistant', content: result.text }]);
      }
      job.emit({ id: job.id, type: 'done', text: call ? '' : result.text, seq, ...stats, ...(call ? { tool_calls: [call] } : {}) });
      log.info('request done', {
        id: job.id,
        source: job.source,
        prompt_tokens: stats.prompt_tokens,
        cached_tokens: stats.cached_tokens,
        tokens: stats.generated_tokens,
        tokens_per_s: stats.decode_tokens_per_s,
        ...(used ? { joules: stats.energy_j, energy: used.measured ? 'measured' : 'estimated' } : {}),
        stop: stats.stop_reason,
        ...(call ? { tool_call: call.name } : {}),
        ms: Date.now() - started,
      });
      log.debug('answer', { id: job.id, text: result.text });
      return { tokens: stats.generated_tokens, tokensPerS: stats.decode_tokens_per_s, joulesPerToken: stats.joules_per_token ?? null };
    } catch (err) {
      if (err instanceof PromptTooLongError) {
        const hint = bigHomeHint(req, err.promptTokens, err.contextSize);
        job.emit(errorEvent(job.id, 'prompt_too_long', hint ? `${err.message}. ${hint}` : err.message));
      } else if (err instanceof RangeError) {
        job.emit(errorEvent(job.id, 'bad_request', err.message));
      } else if (isModelFileLost(err)) {
        job.emit(errorEvent(job.id, 'internal', `the model file changed under the running daemon; it restarts: ${(err as Error).message}`));
        onModelLost?.(err as Error);
      } else {
        log.error('request failed', { id: job.id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        job.emit(errorEvent(job.id, 'internal', `the engine failed: ${err instanceof Error ? err.message : String(err)}`));
      }
      log.info('request failed', { id: job.id, source: job.source, error: err instanceof Error ? err.message : String(err) });
      return { tokens: 0, tokensPerS: 0 };
    }
  };
}

/** Tools are described at the end of the system message. */
function withTools(turns: Turns, req: GenerateRequest): Turns {
  if (!req.tools?.length) return turns;
  return { ...turns, system: [turns.system, toolsPrompt(req.tools)].filter(Boolean).join('\n\n') };
}

interface Turns {
  system: string | undefined;
  messages: WireMessage[];
}

/** The conversation so far plus this request's turn(s). */
function turnsOf(req: GenerateRequest, conversations: Conversations): Turns {
  const earlier = req.conversation ? conversations.history(req.conversation) : [];
  const fresh: WireMessage[] = req.messages ?? [{ role: 'user', content: req.prompt ?? '' }];
  let system = req.system;
  let messages = [...earlier, ...fresh];
  // A stored system turn stays first unless this request brings its own.
  if (messages[0]?.role === 'system') {
    system ??= messages[0].content;
    messages = messages.slice(1);
  }
  return { system, messages };
}

/** Drops the oldest turns of a long conversation until the prompt leaves room for an answer; the
 * prompt that fits, and its tokens. Each message is tokenized once (a resent history is long). */
function fitToContext(model: BitnetModel, contextSize: number, turns: Turns): { input: PromptInput; prompt: number[] } {
  const room = Math.max(1, Math.floor(contextSize / 4)); // keep a quarter of the context for the answer
  const tokenizer = model.tokenizer;
  const system = turns.system !== undefined ? [chatMessageTokens(tokenizer, { role: 'system', content: turns.system })] : [];
  const parts = turns.messages.map((m) => chatMessageTokens(tokenizer, m));
  const whole = joinChat(tokenizer, []).length; // BOS and the assistant's header
  let length = whole + [...system, ...parts].reduce((n, p) => n + p.length, 0);
  let first = 0;
  const messages = turns.messages;
  while (messages.length - first > 1 && length > contextSize - room) {
    const drop = messages[first]?.role === 'user' && messages[first + 1]?.role === 'assistant' ? 2 : 1;
    for (let i = 0; i < drop; i++) length -= parts[first + i]!.length;
    first += drop;
  }
  return { input: asInput(turns.system, messages.slice(first)), prompt: joinChat(tokenizer, [...system, ...parts.slice(first)]) };
}

function asInput(system: string | undefined, messages: WireMessage[]): PromptInput {
  return { messages, ...(system !== undefined ? { system } : {}) };
}

function turnsAsMessages(input: PromptInput): WireMessage[] {
  if (!('messages' in input)) return [];
  return [...(input.system !== undefined ? [{ role: 'system' as const, content: input.system }] : []), ...input.messages];
}
