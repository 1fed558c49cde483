// A trie of byte strings laid out flat in preorder, so that a walk over it is a loop over an index
// and a dead prefix skips its whole subtree in one jump (to end[node]). Constrained decoding walks the
// vocabulary this way: a prefix the recognizer refuses rules out every token that starts with it.

export class ByteTrie {
  /** The byte that leads into each node (node 0, the root, has none). */
  readonly byte: Uint8Array;
  /** A node's depth: the length of the prefix it stands for. */
  readonly depth: Uint16Array;
  /** One past the last node of a node's subtree. */
  readonly end: Uint32Array;
  /** The key that ends at a node (its index in the keys given), or -1. */
  readonly key: Int32Array;
  readonly size: number;

  /** keys: distinct, non-empty byte strings, each byte a char of a latin1 string (sorting such
   * strings is native and sorts them by bytes). */
  constructor(readonly keys: readonly string[]) {
    const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
    // Each key adds the nodes of its bytes past the prefix it shares with the key before it (sorted).
    let size = 1;
    let prev = '';
    for (const i of order) {
      size += keys[i]!.length - commonPrefix(prev, keys[i]!);
      prev = keys[i]!;
    }
    this.size = size;
    this.byte = new Uint8Array(size);
    this.depth = new Uint16Array(size);
    this.end = new Uint32Array(size);
    this.key = new Int32Array(size).fill(-1);
    // open[d]: the node of depth d on the path to the current key; closed (end set) when left.
    const open: number[] = [0];
    let next = 1;
    prev = '';
    for (const i of order) {
      const k = keys[i]!;
      const shared = commonPrefix(prev, k);
      while (open.length > shared + 1) this.end[open.pop()!] = next;
      for (let d = shared; d < k.length; d++) {
        this.byte[next] = k.charCodeAt(d);
        this.depth[next] = d + 1;
        open.push(next++);
      }
      this.key[open[open.length - 1]!] = i;
      prev = k;
    }
    while (open.length) this.end[open.pop()!] = next;
  }

  /** A key's bytes. */
  keyBytes(key: number): Uint8Array {
    return latin1Bytes(this.keys[key]!);
  }
}

export const latin1Bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
