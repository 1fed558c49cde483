// Sessions that keep the KV cache of recent prompts, so that a prompt starting like a recent one only
// evaluates what is new: Home Assistant resends one long system prompt (every exposed entity) on each
// turn, and interleaved clients would otherwise evict each other's. The session sharing the longest
// prefix serves a prompt, if that prefix is at least half of what it holds (else reusing it would throw
// away more than it saves: two clients share little beyond the chat template); otherwise an empty
// slot, a new one, or the least recently used session does. Memory is bounded: past maxBytes of cached
// keys and values, the least recently used sessions are emptied.
import type { BitnetModel } from './model.js';
import type { Session } from './session.js';

export interface PromptCacheOptions {
  /** Sessions kept (each a KV cache of contextSize tokens, resident only as far as filled). */
  slots: number;
  contextSize: number;
  /** Cached keys and values kept at most, over all slots. */
  maxBytes: number;
}

interface Slot {
  session: Session;
  usedAt: number;
}

export class PromptCache {
  private readonly slots: Slot[] = [];
  private clock = 0;

  constructor(
    private readonly model: BitnetModel,
    private readonly options: PromptCacheOptions,
  ) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError(`slots must be a positive integer (got ${options.slots})`);
    this.newSlot();
  }

  get slotCount(): number {
    return this.options.slots;
  }

  get contextSize(): number {
    return this.slots[0]!.session.contextSize;
  }

  /** The idle session sharing the longest prefix with these prompt tokens, now most recently used. */
  take(prompt: readonly number[]): Session {
    const idle = this.slots.filter((s) => !s.session.running);
    const worth = (s: Slot) => {
      const n = sharedPrefix(s.session.cachedTokens, prompt);
      return 2 * n >= Math.min(s.session.cachedTokens.length, prompt.length) ? n : 0;
    };
    // Longest worthwhile prefix, then most recent; else an empty slot, a new one, or the least recent.
    let best = idle.filter((s) => worth(s) > 0).sort((a, b) => worth(b) - worth(a) || b.usedAt - a.usedAt)[0];
    best ??= idle.find((s) => s.session.cachedTokens.length === 0);
    if (!best && this.slots.length < this.options.slots) best = this.newSlot();
    best ??= idle.sort((a, b) => a.usedAt - b.usedAt)[0];
    if (!best) throw new Error('every cached session is generating');
    best.usedAt = ++this.clock;
    return best.session;
  }

  /** The idle sessions holding something, most recently used first. */
  recent(): Session[] {
    return this.slots
      .filter((s) => !s.session.running && s.session.cachedTokens.length > 0)
      .sort((a, b) => b.usedAt - a.usedAt)
      .map((s) => s.session);
  }

  /** An empty session to fill from outside (a saved cache), now the most recently used; none when every slot holds something. */
  adopt(): Session | undefined {
    let slot = this.slots.find((s) => !s.session.running && s.session.cachedTokens.length === 0);
    if (!slot && this.slots.length < this.options.slots) slot = this.newSlot();
    if (slot) slot.usedAt = ++this.clock;
    return slot?.session;
  }

  /** Empties the least recently used idle sessions until the cached keys and values fit maxBytes. */
  trim(): void {
    const byAge = [...this.slots].filter((s) => !s.session.running).sort((a, b) => a.usedAt - b.usedAt);
    for (const slot of byAge) {
      if (this.bytes() <= this.options.maxBytes) return;
      slot.session.reset();
    }
  }

  private newSlot(): Slot {
    const slot = { session: this.model.createSession({ contextSize: this.options.contextSize }), usedAt: 0 };
    this.slots.push(slot);
    return slot;
  }

  /** Bytes of keys and values cached over all sessions. */
  bytes(): number {
    return this.slots.reduce((n, s) => n + s.session.kvBytesUsed, 0);
  }

  /** Tokens cached over all sessions. */
  tokens(): number {
    return this.slots.reduce((n, s) => n + s.session.cachedTokens.length, 0);
  }
}

function sharedPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
