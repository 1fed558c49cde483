// A list of token ids built up by constrained decoding, token after token.

/** Token ids gathered into a growing typed array (a plain array of 120,000 numbers is slow to fill). */
export class TokenList {
  private ids: Int32Array;
  private n = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
  }

  add(id: number): void {
    if (this.n === this.ids.length) this.grow(this.n + 1);
    this.ids[this.n++] = id;
  }

  addAll(ids: Int32Array): void {
    if (this.n + ids.length > this.ids.length) this.grow(this.n + ids.length);
    this.ids.set(ids, this.n);
    this.n += ids.length;
  }

  /** ids[from .. to): usually one or two, copied one by one (a subarray would allocate a view). */
  addRange(ids: Int32Array, from: number, to: number): void {
    if (this.n + to - from > this.ids.length) this.grow(this.n + to - from);
    for (let i = from; i < to; i++) this.ids[this.n++] = ids[i]!;
  }

  /** A copy of the ids. */
  done(): Int32Array {
    return this.ids.slice(0, this.n);
  }

  /** The ids in place: valid until the list is cleared. */
  view(): Int32Array {
    return this.ids.subarray(0, this.n);
  }

  clear(): void {
    this.n = 0;
  }

  private grow(need: number): void {
    const bigger = new Int32Array(Math.max(need, this.ids.length * 2));
    bigger.set(this.ids.subarray(0, this.n));
    this.ids = bigger;
  }
}
