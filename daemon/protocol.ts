// The wire shapes bitnetd speaks, in one place. Names are snake_case, as clients (and Ollama) expect.
import type { GenerationStats } from './engine/index.js';

export interface WireStats {
  prompt_tokens: number;
  cached_tokens: number;
  generated_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  stop_reason: GenerationStats['stopReason'];
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function toWireStats(s: GenerationStats): WireStats {
  return {
    prompt_tokens: s.promptTokens,
    cached_tokens: s.cachedTokens,
    generated_tokens: s.generatedTokens,
    prefill_ms: round(s.prefillMs, 1),
    decode_ms: round(s.decodeMs, 1),
    prefill_tokens_per_s: round(s.prefillTokensPerS),
    decode_tokens_per_s: round(s.decodeTokensPerS),
    stop_reason: s.stopReason,
  };
}
