// Llama 3 byte-level BPE over the vocabulary stored in the GGUF file (tokenizer.ggml.*).
// Text given to encode() is always plain text: special tokens are only ever added by id.
import { bpeMerge } from './bpe.js';
import { byteCharsToBytes, textToByteChars } from './byte-level.js';
import { preTokenize, preTokenizerFor, type PreTokenizerName } from './pretokenizer.js';

/** tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface TokenizerTables {
  tokens: string[];
  merges: string[];
  tokenTypes: Int32Array | null;
}

export interface TokenizerConfig {
  model: string;           // tokenizer.ggml.model, must be "gpt2" (byte-level BPE)
  pre?: string;            // tokenizer.ggml.pre
  bosId?: number;
  eosId?: number;
  eotId?: number;
  addBos?: boolean;
}

const WORD_CACHE_LIMIT = 50_000;

export class Tokenizer {
  readonly vocabSize: number;
  readonly preTokenizer: PreTokenizerName;
  readonly bosId: number;
  readonly eosId: number;
  /** End of turn; found by its text when the file has no tokenizer.ggml.eot_token_id (the official file). */
  readonly eotId: number | undefined;
  readonly addBos: boolean;
  /** Ids that end a generation: end of text and end of turn. */
  readonly stopIds: ReadonlySet<number>;

  private readonly tokens: string[];
  private readonly types: Int32Array | null;
  private readonly textToId = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly bytesById: (Uint8Array | null)[];
  private readonly cache = new Map<string, number[]>();

  constructor(tables: TokenizerTables, config: TokenizerConfig) {
    if (config.model !== 'gpt2') {
      throw new Error(`unsupported tokenizer model "${config.model}" (bitnetd reads byte-level BPE, "gpt2")`);
    }
    this.tokens = tables.tokens;
    this.vocabSize = tables.tokens.length;
    this.types = tables.tokenTypes;
    if (this.types && this.types.length !== this.vocabSize) {
      throw new Error(`tokenizer.ggml.token_type has ${this.types.length} entries for ${this.vocabSize} tokens`);
    }
    this.preTokenizer = preTokenizerFor(config.pre);
    tables.tokens.forEach((text, id) => {
      // Control tokens must never come out of user text, so they are not in the text lookup.
      if (!this.isControl(id) && !this.textToId.has(text)) this.textToId.set(text, id);
    });
    tables.merges.forEach((merge, rank) => {
      if (!this.ranks.has(merge)) this.ranks.set(merge, rank);
    });
    this.bytesById = tables.tokens.map((text, id) => this.tokenBytes(text, id));

    this.bosId = this.checkedId(config.bosId ?? this.idOfText('<|begin_of_text|>'), 'bos');
    this.eosId = this.checkedId(config.eosId ?? this.idOfText('<|end_of_text|>'), 'eos');
    const eot = config.eotId ?? this.idOfText('<|eot_id|>');
    this.eotId = eot === undefined ? undefined : this.checkedId(eot, 'eot');
    this.addBos = config.addBos ?? true;
    this.stopIds = new Set([this.eosId, ...(this.eotId === undefined ? [] : [this.eotId])]);
  }

  /** Token ids of plain text; BOS first when withBos (default: what the file says). */
  encode(text: string, withBos = this.addBos): number[] {
    const ids: number[] = withBos ? [this.bosId] : [];
    for (const piece of preTokenize(text, this.preTokenizer)) {
      for (const id of this.encodeWord(piece)) ids.push(id);
    }
    return ids;
  }

  /** The raw bytes of a token; control tokens render as nothing. */
  bytesOf(id: number): Uint8Array {
    return this.bytesById[id] ?? new Uint8Array(0);
  }

  /** Whole-sequence decode (for streams use Detokenizer, which never splits a UTF-8 sequence). */
  decode(ids: number[]): string {
    const parts = ids.map((id) => this.bytesOf(id));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  }

  isControl(id: number): boolean {
    return this.types !== null && this.types[id] === TokenType.control;
  }

  private encodeWord(piece: string): number[] {
    const word = textToByteChars(piece);
    const hit = this.cache.get(word);
    if (hit) return hit;
    // Llama 3 "ignore_merges": a word that is itself a token is taken whole.
    const whole = this.textToId.get(word);
    let ids: number[];
    if (whole !== undefined) {
      ids = [whole];
    } else {
      ids = [];
      for (const symbol of bpeMerge(word, this.ranks)) {
        const id = this.textToId.get(symbol);
        if (id !== undefined) {
          ids.push(id);
          continue;
        }
        // A symbol the vocabulary lacks: fall back to its single bytes.
        for (const ch of symbol) {
          const byteId = this.textToId.get(ch);
          if (byteId === undefined) throw new Error(`the vocabulary has no token for byte-level symbol "${ch}"`);
          ids.push(byteId);
        }
      }
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  private tokenBytes(text: string, id: number): Uint8Array | null {
    if (this.isControl(id)) return null;
    const type = this.types?.[id];
    if (type === TokenType.userDefined) return new TextEncoder().encode(text);
    // Byte-level spelling; a token outside that alphabet (a special without a type) renders as its text.
    return byteCharsToBytes(text) ?? new TextEncoder().encode(text);
  }

  private idOfText(text: string): number | undefined {
    const id = this.tokens.indexOf(text);
    return id >= 0 ? id : undefined;
  }

  private checkedId(id: number | undefined, what: string): number {
    if (id === undefined) throw new Error(`the vocabulary defines no ${what} token`);
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`tokenizer ${what} token id ${id} is outside the vocabulary of ${this.vocabSize}`);
    }
    return id;
  }
}
