// Finds stop strings in streamed text. Text that could still become a stop string is held back,
// so a client never sees part of one.
export class StopStrings {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Feeds new text; returns what is safe to emit and whether a stop string was reached. */
  push(text: string): { emit: string; stopped: boolean } {
    if (this.stops.length === 0) return { emit: text, stopped: false };
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = '';
      return { emit, stopped: true };
    }
    const hold = this.heldBack();
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** The held-back tail, at the end of a generation. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  // Length of the longest suffix of pending that is a proper prefix of some stop string.
  private heldBack(): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > best; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
