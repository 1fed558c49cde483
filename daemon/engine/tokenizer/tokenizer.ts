// Llama 3 byte-level BPE over the vocabulary stored in the GGUF file (tokenizer.ggml.*).
// Text given to encode() is always plain text: special tokens are only ever added by id.
import { bpeMerge } from './bpe.js';
import { MergeTable } from './merge-table.js';
import { byteCharsInto, textToByteChars } from './byte-level.js';
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
const utf8 = new TextEncoder();

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
  private readonly merges: MergeTable;
  // Symbols that merging can reach but the vocabulary lacks (none in Llama 3's), numbered from
  // vocabSize on; their bytes fall back to single-byte tokens.
  private readonly extraSymbols: string[] = [];
  private readonly extraIds = new Map<string, number>();
  // Every token's bytes in one buffer (control tokens: none): one object instead of 128,000.
  private readonly tokenBytes: Uint8Array;
  private readonly tokenStart: Uint32Array;
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
    this.merges = new MergeTable(tables.merges.length);
    tables.merges.forEach((merge, rank) => {
      // "left right": byte-level symbols hold no space, so a merge with another count never applies.
      const parts = merge.split(' ');
      if (parts.length !== 2) return;
      const [left, right] = parts as [string, string];
      this.merges.add(this.symbolId(left), this.symbolId(right), rank, this.symbolId(left + right));
    });
    // Spelled in place: UTF-8 takes at most 3 bytes per UTF-16 unit.
    const spelled = new Uint8Array(tables.tokens.reduce((n, text) => n + 3 * text.length, 0));
    this.tokenStart = new Uint32Array(this.vocabSize + 1);
    tables.tokens.forEach((text, id) => {
      this.tokenStart[id + 1] = this.tokenStart[id]! + this.spell(text, id, spelled, this.tokenStart[id]!);
    });
    this.tokenBytes = spelled.slice(0, this.tokenStart[this.vocabSize]);

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

  /** The raw bytes of a token (a view: do not keep or change it); control tokens render as nothing. */
  bytesOf(id: number): Uint8Array {
    if (!(id >= 0 && id < this.vocabSize)) return new Uint8Array(0);
    return this.tokenBytes.subarray(this.tokenStart[id], this.tokenStart[id + 1]);
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
      for (const id of bpeMerge(Array.from(word, (ch) => this.symbolId(ch)), this.merges)) {
        if (id < this.vocabSize) {
          ids.push(id);
          continue;
        }
        // A symbol the vocabulary lacks: fall back to its single bytes.
        for (const ch of this.extraSymbols[id - this.vocabSize]!) {
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

  /** The id merging knows a symbol by: its token's, or one past the vocabulary. */
  private symbolId(text: string): number {
    const id = this.textToId.get(text) ?? this.extraIds.get(text);
    if (id !== undefined) return id;
    const extra = this.vocabSize + this.extraSymbols.length;
    this.extraSymbols.push(text);
    this.extraIds.set(text, extra);
    return extra;
  }

  /** Writes a token's bytes at out[at...]; returns their count. */
  private spell(text: string, id: number, out: Uint8Array, at: number): number {
    if (this.isControl(id)) return 0;
    // Byte-level spelling; a user-defined token, or one outside that alphabet (a special without a
    // type), renders as its text.
    const n = this.types?.[id] === TokenType.userDefined ? -1 : byteCharsInto(text, out, at);
    return n >= 0 ? n : utf8.encodeInto(text, out.subarray(at)).written;
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
