// What constrained decoding knows about the vocabulary, worked out once per tokenizer so that a step
// never scans 128,000 tokens: a byte trie of every token (a refused prefix rules out its subtree), and
// the classes that decide most of a string at once. Inside a JSON string every token without a quote,
// a backslash or a control byte is allowed as it is ("string-safe": 96% of Llama 3's); the others are
// decided by what follows their first such byte, and those suffixes are few (about 2,200) and share a
// trie of their own.
import { ByteTrie } from './byte-trie.js';
import { incompleteTail, isContinuationByte } from './utf8.js';

export interface Vocabulary {
  readonly vocabSize: number;
  /** A token's bytes; control tokens have none. */
  bytesOf(id: number): Uint8Array;
}

/** A byte that stops a string-safe token: a control character, '"' or '\'. */
const isStringSpecial = (b: number) => b < 0x20 || b === 0x22 || b === 0x5c;

export const SAFE_CUT = 1;
export const SAFE_CONT = 2;

export class VocabIndex {
  /** Every token with bytes; key k's token ids are trieIdList[trieIdStart[k] .. trieIdStart[k + 1]) (one
   * flat list: 128,000 small arrays cost megabytes more and a collection). */
  readonly trie: ByteTrie;
  readonly trieIdStart: Int32Array;
  readonly trieIdList: Int32Array;
  /** Tokens that stay inside a JSON string whatever comes before them. */
  readonly stringSafe: Int32Array;
  /** Per string-safe token (same order): the UTF-16 length of its whole characters, decoded alone. */
  readonly safeLength: Uint16Array;
  /** Per string-safe token: SAFE_CUT when it ends inside a character, SAFE_CONT when it starts with a
   * continuation byte (which may finish a character the previous token began). */
  readonly safeFlags: Uint8Array;
  /** The longest safeLength: a string with more room than this takes every string-safe token. */
  readonly longestSafe: number;
  /** The other tokens, keyed by their bytes from the first special one on; per token, the UTF-16
   * length of the text before that byte (decoded alone), or -1 when it starts with a continuation byte. */
  readonly suffixTrie: ByteTrie;
  readonly suffixIds: readonly Int32Array[];
  readonly suffixPrefixLength: readonly Int32Array[];
  private braces: { start: Int32Array; rest: Int32Array } | undefined;

  constructor(readonly vocab: Vocabulary) {
    const byBytes = new Map<string, number[]>();
    const safe: number[] = [];
    const safeLength: number[] = [];
    const safeFlags: number[] = [];
    const bySuffix = new Map<string, { ids: number[]; prefixLength: number[] }>();
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    const length16 = (b: Uint8Array) => (b.every((x) => x < 0x80) ? b.length : decoder.decode(b).length);
    for (let id = 0; id < vocab.vocabSize; id++) {
      const bytes = vocab.bytesOf(id);
      if (!bytes.length) continue;
      const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
      const same = byBytes.get(key);
      if (same) same.push(id);
      else byBytes.set(key, [id]);
      const special = bytes.findIndex(isStringSpecial);
      if (special < 0) {
        const cut = incompleteTail(bytes);
        safe.push(id);
        safeLength.push(Math.min(length16(bytes.subarray(0, bytes.length - cut)), 0xffff));
        safeFlags.push((cut ? SAFE_CUT : 0) | (isContinuationByte(bytes[0]!) ? SAFE_CONT : 0));
      } else {
        const suffix = key.slice(special);
        let group = bySuffix.get(suffix);
        if (!group) bySuffix.set(suffix, (group = { ids: [], prefixLength: [] }));
        group.ids.push(id);
        group.prefixLength.push(special > 0 && isContinuationByte(bytes[0]!) ? -1 : length16(bytes.subarray(0, special)));
      }
    }
    this.trie = new ByteTrie([...byBytes.keys()]);
    this.trieIdStart = new Int32Array(byBytes.size + 1);
    this.trieIdList = new Int32Array([...byBytes.values()].reduce((n, ids) => n + ids.length, 0));
    let key = 0;
    for (const ids of byBytes.values()) {
      this.trieIdList.set(ids, this.trieIdStart[key]!);
      this.trieIdStart[key + 1] = this.trieIdStart[key]! + ids.length;
      key++;
    }
    this.stringSafe = Int32Array.from(safe);
    this.safeLength = Uint16Array.from(safeLength);
    this.safeFlags = Uint8Array.from(safeFlags);
    this.longestSafe = safeLength.reduce((a, b) => Math.max(a, b), 0);
    this.suffixTrie = new ByteTrie([...bySuffix.keys()]);
    this.suffixIds = [...bySuffix.values()].map((g) => Int32Array.from(g.ids));
    this.suffixPrefixLength = [...bySuffix.values()].map((g) => Int32Array.from(g.prefixLength));
  }

  /** Tokens whose first visible character is "{" (a tool call may start there), and all the other
   * tokens with bytes: what an answer that has not yet shown whether it is a call chooses from. */
  get braceStart(): { start: Int32Array; rest: Int32Array } {
    if (!this.braces) {
      const start: number[] = [];
      const rest: number[] = [];
      const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
      for (let id = 0; id < this.vocab.vocabSize; id++) {
        const bytes = this.vocab.bytesOf(id);
        if (!bytes.length) continue;
        // Only a token with a "{" byte can show one.
        (bytes.includes(0x7b) && decoder.decode(bytes).trimStart().startsWith('{') ? start : rest).push(id);
      }
      this.braces = { start: Int32Array.from(start), rest: Int32Array.from(rest) };
    }
    return this.braces;
  }
}

const indexes = new WeakMap<Vocabulary, VocabIndex>();

/** The index of a tokenizer's vocabulary, built on first use (half a second for Llama 3's; the daemon
 * builds it at load). */
export function vocabIndex(vocab: Vocabulary): VocabIndex {
  let index = indexes.get(vocab);
  if (!index) indexes.set(vocab, (index = new VocabIndex(vocab)));
  return index;
}
