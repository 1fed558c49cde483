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
  return joinChat(tokenizer, messages.map((m) => chatMessageTokens(tokenizer, m)));
}

/** One message as the chat format lays it out; a conversation's prompt is joinChat of its messages', so
 * that turns can be dropped without tokenizing the rest again. */
export function chatMessageTokens(tokenizer: Tokenizer, m: ChatMessage): number[] {
  const eot = tokenizer.eotId;
  if (eot === undefined) throw new Error('this model has no <|eot_id|> token, so it cannot use the chat format');
  const header = HEADERS[m.role];
  if (header === undefined) throw new Error(`unknown chat role "${String(m.role)}" (system, user or assistant)`);
  return concat([tokenizer.encode(header, false), tokenizer.encode(m.content.trim(), false), [eot]]);
}

/** BOS, the messages' tokens, then the assistant's header. */
export function joinChat(tokenizer: Tokenizer, messages: readonly number[][]): number[] {
  return concat([[tokenizer.bosId], ...messages, tokenizer.encode(HEADERS.assistant, false)]);
}

/** Arrays joined without spreading them into arguments (a long prompt has more tokens than a call may
 * take arguments). */
function concat(parts: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (const part of parts) for (const id of part) out.push(id);
  return out;
}
