// Splits a byte stream into lines, refusing lines longer than a limit without buffering them.
export interface LineHandlers {
  line(text: string): void;
  /** A line went over the limit; its bytes up to the next newline are dropped. */
  tooLong(bytes: number): void;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;
  private skipping = false;
  private skipped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly on: LineHandlers,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl < 0) return;
      this.endLine();
      start = nl + 1;
    }
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipping) {
      this.skipped += piece.length;
      return;
    }
    if (this.pending + piece.length > this.maxBytes) {
      this.skipping = true;
      this.skipped = this.pending + piece.length;
      this.parts = [];
      this.pending = 0;
      return;
    }
    this.parts.push(piece);
    this.pending += piece.length;
  }

  private endLine(): void {
    if (this.skipping) {
      this.on.tooLong(this.skipped);
      this.skipping = false;
      this.skipped = 0;
      return;
    }
    const text = Buffer.concat(this.parts, this.pending).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.pending = 0;
    if (text.trim()) this.on.line(text);
  }
}
