// The BPE merges as an open-addressing hash table from a pair of symbol ids to the merge's rank and the
// id of the merged symbol, all in typed arrays: Llama 3's 280,000 merges take 8 MB here, where a Map
// keyed by "left right" strings held about 35 MB of small objects on the JavaScript heap.

export class MergeTable {
  private readonly left: Int32Array; // -1 marks an empty slot
  private readonly right: Int32Array;
  private readonly ranks: Int32Array;
  private readonly results: Int32Array;
  private readonly mask: number;

  /** Room for `capacity` merges, the table at most three quarters full. */
  constructor(capacity: number) {
    let size = 16;
    while (size * 3 < capacity * 4) size *= 2;
    this.mask = size - 1;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.results = new Int32Array(size);
  }

  /** Adds the merge of (left, right) unless the pair has one already: the first, lowest rank, wins. */
  add(left: number, right: number, rank: number, result: number): void {
    let slot = this.home(left, right);
    while (this.left[slot] !== -1) {
      if (this.left[slot] === left && this.right[slot] === right) return;
      slot = (slot + 1) & this.mask;
    }
    this.left[slot] = left;
    this.right[slot] = right;
    this.ranks[slot] = rank;
    this.results[slot] = result;
  }

  /** The slot holding the merge of (left, right), or -1 when the pair does not merge. */
  find(left: number, right: number): number {
    let slot = this.home(left, right);
    while (this.left[slot] !== -1) {
      if (this.left[slot] === left && this.right[slot] === right) return slot;
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }

  rank(slot: number): number {
    return this.ranks[slot]!;
  }

  result(slot: number): number {
    return this.results[slot]!;
  }

  private home(left: number, right: number): number {
    let h = Math.imul(left, 0x9e3779b1) ^ right;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.mask;
  }
}
