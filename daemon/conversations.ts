// Named conversations: the turns so far, so that a request with `conversation` continues it.
// Bounded: the least recently used conversation is forgotten first.
import type { WireMessage } from './protocol.js';

export class Conversations {
  private readonly turns = new Map<string, WireMessage[]>();

  constructor(private capacity: number) {}

  history(name: string): WireMessage[] {
    return this.turns.get(name) ?? [];
  }

  /** Stores the whole conversation after an answer (and marks it most recently used). */
  save(name: string, messages: WireMessage[]): void {
    this.turns.delete(name);
    this.turns.set(name, messages);
    this.trim();
  }

  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.trim();
  }

  private trim(): void {
    while (this.turns.size > this.capacity) {
      const oldest = this.turns.keys().next().value as string;
      this.turns.delete(oldest);
    }
  }
}
