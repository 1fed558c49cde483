// Streaming detokenization: token bytes go in, text comes out only once its UTF-8 sequence is whole.
import type { Tokenizer } from './tokenizer.js';

export class Detokenizer {
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Text completed by this token ('' while a multi-byte character is still incomplete). */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.bytesOf(id), { stream: true });
  }

  /** Whatever is left at the end; an unfinished sequence becomes U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}
