// The real Llama 3 vocabulary (128,256 tokens, 280,147 merges) from the llama3-tokenizer-js package,
// a development dependency: synthetic models carry the tokenizer the official file carries.
export interface Llama3Vocab {
  tokens: string[];
  merges: string[];
  tokenTypes: number[];
}

const FIRST_SPECIAL = 128000;
const CONTROL = 3;
const NORMAL = 1;

interface Llama3TokenizerJs {
  vocabById: string[];
  merges: Map<string, number>;
}

export async function loadLlama3Vocab(): Promise<Llama3Vocab> {
  let mod: { default: Llama3TokenizerJs };
  try {
    mod = (await import('llama3-tokenizer-js')) as unknown as { default: Llama3TokenizerJs };
  } catch {
    throw new Error('writing synthetic models needs the llama3-tokenizer-js package (a dev dependency): run "npm ci"');
  }
  const t = mod.default;
  const tokens = [...t.vocabById];
  // The package numbers merges from 1 in file order; GGUF lists them in that order.
  const merges = [...t.merges.entries()].sort((a, b) => a[1] - b[1]).map(([m]) => m);
  const tokenTypes = tokens.map((_, id) => (id >= FIRST_SPECIAL ? CONTROL : NORMAL));
  return { tokens, merges, tokenTypes };
}
