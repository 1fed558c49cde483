// Byte-pair merging of one pre-tokenized word, lowest merge rank first, leftmost first on ties.
// A heap keeps long words (minified code, base64) at O(n log n) instead of O(n^2).
import type { MergeTable } from './merge-table.js';

interface Candidate {
  rank: number;
  left: number;
  right: number;
}

class MinHeap {
  private items: Candidate[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: Candidate, b: Candidate): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
  }
  push(c: Candidate): void {
    const items = this.items;
    items.push(c);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): Candidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Merges a word's symbol ids (its byte-level characters) into its BPE symbols. */
export function bpeMerge(symbols: readonly number[], merges: MergeTable): number[] {
  const sym = symbols.slice();
  if (sym.length < 2) return sym;
  const next = sym.map((_, i) => (i + 1 < sym.length ? i + 1 : -1));
  const prev = sym.map((_, i) => i - 1);
  const alive = sym.map(() => true);
  const heap = new MinHeap();
  const consider = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const slot = merges.find(sym[left]!, sym[right]!);
    if (slot >= 0) heap.push({ rank: merges.rank(slot), left, right });
  };
  for (let i = 0; i + 1 < sym.length; i++) consider(i, i + 1);

  while (heap.size > 0) {
    const { rank, left, right } = heap.pop()!;
    // Stale entries: a side was merged away or grew since this pair was queued.
    if (!alive[left] || !alive[right] || next[left] !== right) continue;
    const slot = merges.find(sym[left]!, sym[right]!);
    if (slot < 0 || merges.rank(slot) !== rank) continue;
    sym[left] = merges.result(slot);
    alive[right] = false;
    next[left] = next[right]!;
    if (next[left]! >= 0) prev[next[left]!] = left;
    consider(prev[left]!, left);
    consider(left, next[left]!);
  }
  return sym.filter((_, i) => alive[i]);
}
