// The engine's public API.
export { BitnetModel, type LoadOptions, type PromptInput } from './model.js';
export {
  Session,
  PromptTooLongError,
  type SessionOptions,
  type GenerateOptions,
  type GenerationResult,
  type GenerationStats,
  type StopReason,
  type TokenChunk,
} from './session.js';
export { Tokenizer } from './tokenizer.js';
export { formatChat, type ChatMessage, type ChatRole } from './chat-format.js';
export { DEFAULT_SAMPLING, type SamplingOptions } from './sampling.js';
