// What constrained decoding asks of a constraint (a JSON schema, a tool call): the session's sampler
// draws only among the tokens it allows.
import type { VocabIndex } from './vocab-index.js';

/** Restricts what may be generated. */
export interface TokenConstraint {
  /** False while it lets anything through: the answer is then sampled as usual. */
  readonly active: boolean;
  /** Whether a token with these bytes may come next. */
  allows(bytes: Uint8Array): boolean;
  /** Every token that may come next, stop tokens aside: those allows() takes, found without trying
   * each. Valid until the next call (it may be a buffer the constraint reuses). */
  allowedTokens(vocab: VocabIndex): Int32Array;
  /** The chosen token's bytes. */
  accept(bytes: Uint8Array): void;
  /** The answer may end here. */
  readonly complete: boolean;
  /** Nothing more may follow: the answer is over. */
  readonly finished: boolean;
  /** The shortest text that makes a cut-off answer whole. */
  finish(): string;
}
