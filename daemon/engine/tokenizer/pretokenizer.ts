// Pre-tokenizer split rules, by the name GGUF files give in tokenizer.ggml.pre.
// JavaScript has no inline (?i:...), so the contractions spell out both cases.

/** Llama 3's split (Hugging Face tokenizer.json of Meta-Llama-3 and BitNet b1.58 2B4T). */
const LLAMA3 =
  /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** GPT-2's split: what stock bitnet.cpp falls back to when the key is missing (spec §6.1). */
const GPT2 = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export type PreTokenizerName = 'llama3' | 'gpt2';

/**
 * Which split a file asks for. The official BitNet file has no tokenizer.ggml.pre; the model was
 * trained with Llama 3's rules, so a missing key means llama3, not GPT-2 as in bitnet.cpp.
 */
export function preTokenizerFor(pre: string | undefined): PreTokenizerName {
  if (pre === undefined || pre === '' || pre === 'llama-bpe' || pre === 'llama3' || pre === 'llama-v3') return 'llama3';
  if (pre === 'default' || pre === 'gpt2' || pre === 'gpt-2') return 'gpt2';
  throw new Error(`unsupported pre-tokenizer "${pre}" in tokenizer.ggml.pre (supported: llama-bpe, default)`);
}

export function preTokenize(text: string, name: PreTokenizerName): string[] {
  return text.match(name === 'llama3' ? LLAMA3 : GPT2) ?? [];
}
