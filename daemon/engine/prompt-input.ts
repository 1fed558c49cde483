// What to generate from: a prompt (chat-formatted unless raw), chat messages, or token ids.
import type { ChatMessage } from './chat-format.js';

export type PromptInput =
  | { prompt: string; system?: string; raw?: boolean }
  | { messages: ChatMessage[]; system?: string }
  | { tokens: number[] };
