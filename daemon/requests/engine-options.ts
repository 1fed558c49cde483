// A request's length and sampling fields as the engine's generation options: for the daemon's runner
// and the command line alike.
import type { GenerateOptions } from '../engine/index.js';
import type { GenerateRequest } from '../protocol.js';

export function engineOptions(req: GenerateRequest, defaultMaxTokens: number): GenerateOptions {
  return {
    maxTokens: req.max_tokens ?? defaultMaxTokens,
    ...(req.stop ? { stop: req.stop } : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    ...(req.top_k !== undefined ? { topK: req.top_k } : {}),
    ...(req.top_p !== undefined ? { topP: req.top_p } : {}),
    ...(req.min_p !== undefined ? { minP: req.min_p } : {}),
    ...(req.repeat_penalty !== undefined ? { repeatPenalty: req.repeat_penalty } : {}),
    ...(req.seed !== undefined ? { seed: req.seed } : {}),
  };
}
