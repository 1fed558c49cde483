// The work one token makes in a BitNet b1.58 model of a given shape, for the paper estimate.
import type { ModelShape } from '../../daemon/synth/synthetic-model.js';

/** The engine's token tile (kMaxTileTokens in native/src/kernels/kernels.h): a prefill's kernel calls take 8 tokens. */
export const kMaxTileTokens = 8;

/** Ternary weights every token multiplies: Q, K, V and O, then gate, up and down, in every layer. */
export function ternaryWeightsPerToken(s: ModelShape): number {
  const kvDim = (s.nEmbd / s.nHead) * s.nHeadKv;
  return s.nLayer * (s.nEmbd * (2 * s.nEmbd + 2 * kvDim) + 3 * s.nEmbd * s.nFf);
}
