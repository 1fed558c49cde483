// Walks a byte trie with a recognizer: each ASCII byte steps the state of its parent node, and a node
// the recognizer refuses is skipped with its whole subtree, so the tokens of a structural place in a
// JSON answer (after "{", inside a number, a key or an enum member) are found by looking at a few
// hundred nodes rather than 128,000 tokens. A byte beyond ASCII starts a character that can only come
// inside a string, a key or a literal; where one may, that subtree is decided token by token by the
// exact check.
import type { ByteTrie } from './byte-trie.js';

export interface TrieRecognizer<S> {
  /** The state after this ASCII character, or null when it cannot come next. */
  stepAscii(state: S, char: string): S | null;
  /** Whether a character beyond ASCII may come next. */
  takesNonAscii(state: S): boolean;
}

/** Calls found(key) for every key of the trie the recognizer takes whole from the root state; keys in
 * a subtree reached by a byte beyond ASCII are decided by exact(key). */
export function walkTrie<S>(trie: ByteTrie, root: S, r: TrieRecognizer<S>, exact: (key: number) => boolean, found: (key: number) => void): void {
  const states: S[] = [root];
  for (let node = 1; node < trie.size; ) {
    const depth = trie.depth[node]!;
    const parent = states[depth - 1]!;
    const byte = trie.byte[node]!;
    if (byte >= 0x80) {
      if (r.takesNonAscii(parent)) {
        for (let n = node; n < trie.end[node]!; n++) {
          const key = trie.key[n]!;
          if (key >= 0 && exact(key)) found(key);
        }
      }
      node = trie.end[node]!;
      continue;
    }
    const state = r.stepAscii(parent, ASCII[byte]!);
    if (state === null) {
      node = trie.end[node]!;
      continue;
    }
    states[depth] = state;
    if (trie.key[node]! >= 0) found(trie.key[node]!);
    node++;
  }
}

const ASCII = Array.from({ length: 128 }, (_, b) => String.fromCharCode(b));
