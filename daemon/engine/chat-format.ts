// The prompt format BitNet b1.58 2B4T was trained on (spec §6.2), built as token ids:
//   BOS, then per message  tokens("Role: ") + tokens(content.trim()) + <|eot_id|>,  then tokens("Assistant: ").
// Headers are tokenized on their own, as Microsoft's reference ChatFormat does, and special tokens are
// inserted by id, so text inside a message can never forge one.
import type { Tokenizer } from './tokenizer/tokenizer.js';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

const HEADERS: Record<ChatRole, string> = { system: 'System: ', user: 'User: ', assistant: 'Assistant: ' };

export function formatChat(tokenizer: Tokenizer, messages: readonly ChatMessage[]): number[] {
  const eot = tokenizer.eotId;
  if (eot === undefined) throw new Error('this model has no <|eot_id|> token, so it cannot use the chat format');
  const ids = [tokenizer.bosId];
  for (const m of messages) {
    const header = HEADERS[m.role];
    if (header === undefined) throw new Error(`unknown chat role "${String(m.role)}" (system, user or assistant)`);
    ids.push(...tokenizer.encode(header, false), ...tokenizer.encode(m.content.trim(), false), eot);
  }
  ids.push(...tokenizer.encode(HEADERS.assistant, false));
  return ids;
}
