// The flat preorder trie constrained decoding walks: every key is found at the end of its path, and a
// node's subtree is exactly the keys that start with its prefix.
import test from 'ava';
import { ByteTrie } from '../../../daemon/engine/constraints/byte-trie.js';
import { Random } from '../../../daemon/synth/random.js';

/** Each node's prefix, rebuilt from the bytes and depths along the preorder. */
function prefixes(trie: ByteTrie): string[] {
  const out = [''];
  for (let n = 1; n < trie.size; n++) out.push(out.findLast((_, i) => i < n && (i === 0 ? 0 : trie.depth[i]!) === trie.depth[n]! - 1)! + String.fromCharCode(trie.byte[n]!));
  return out;
}

test('every key ends at the node of its bytes; each subtree holds exactly the keys with its prefix', (t) => {
  const rng = new Random(5);
  const keys = [...new Set(Array.from({ length: 300 }, () => Array.from({ length: 1 + rng.below(5) }, () => String.fromCharCode([0x22, 0x41, 0x42, 0xe2, 0x0a][rng.below(5)]!)).join('')))];
  const trie = new ByteTrie(keys);
  const prefix = prefixes(trie);
  t.is(trie.size, new Set(keys.flatMap((k) => Array.from({ length: k.length }, (_, i) => k.slice(0, i + 1)))).size + 1, 'one node per distinct prefix');
  for (let n = 0; n < trie.size; n++) {
    if (trie.key[n]! >= 0) t.is(keys[trie.key[n]!], prefix[n]);
    const inSubtree = new Set<string>();
    for (let m = n; m < trie.end[n]!; m++) if (trie.key[m]! >= 0) inSubtree.add(keys[trie.key[m]!]!);
    t.deepEqual([...inSubtree].sort(), keys.filter((k) => k.startsWith(prefix[n]!)).sort(), `subtree of ${JSON.stringify(prefix[n])}`);
  }
  t.deepEqual([...trie.keyBytes(0)], [...Buffer.from(keys[0]!, 'latin1')]);
});
