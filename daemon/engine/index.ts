// The engine's public API: the daemon, the command line and the bench import the engine from here only.
// Inside: addon/ (finding and loading the native addon), tokenizer/, constraints/ (constrained decoding),
// and the model, its sessions and the prompt cache.
export { loadAddon, loadedAddon, type NativeAddon, type NativeModelInfo } from './addon/native.js';
export { findUsableAddon, type AddonCandidate } from './addon/addon-loader.js';
export { BitnetModel, isModelFileLost, type LoadOptions } from './model.js';
export type { PromptInput } from './prompt-input.js';
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
export { PromptCache, type PromptCacheOptions } from './prompt-cache.js';
export { modelStamp, PromptCacheStore, type LoadReport, type SaveReport } from './prompt-cache-store.js';
export { Tokenizer } from './tokenizer/tokenizer.js';
export { chatMessageTokens, formatChat, joinChat, type ChatMessage, type ChatRole } from './chat-format.js';
export { DEFAULT_SAMPLING, type SamplingOptions } from './sampling.js';
export type { TokenConstraint } from './constraints/token-constraint.js';
export { JsonConstraint, type JsonSchema } from './constraints/json-constraint.js';
export { boundsAdmit, MAX_NUMBER_CHARS, numberBounds } from './constraints/number-bounds.js';
export { parseToolCall, ToolCallConstraint, toolCallSchema, toolsPrompt, type ToolCall, type ToolSpec } from './constraints/tool-calls.js';
export { vocabIndex, type VocabIndex } from './constraints/vocab-index.js';
