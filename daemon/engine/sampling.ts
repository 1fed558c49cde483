// Sampling options, their defaults and their checks (the sampler itself is native: src/sampler.cc).
import type { NativeSamplerParams } from './addon/native.js';

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** 0 = off. */
  topK?: number;
  /** 1 = off. */
  topP?: number;
  /** 0 = off. */
  minP?: number;
  /** 1 = off. */
  repeatPenalty?: number;
  repeatLastN?: number;
  /** Same seed, same prompt, same options: same output. Random when absent. */
  seed?: number;
}

export const DEFAULT_SAMPLING = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.1,
  repeatLastN: 64,
} as const;

function check(name: string, value: number, ok: boolean, allowed: string): number {
  if (!Number.isFinite(value) || !ok) throw new RangeError(`${name} must be ${allowed} (got ${value})`);
  return value;
}

export function resolveSampling(o: SamplingOptions): NativeSamplerParams {
  const temperature = o.temperature ?? DEFAULT_SAMPLING.temperature;
  const topK = o.topK ?? DEFAULT_SAMPLING.topK;
  const topP = o.topP ?? DEFAULT_SAMPLING.topP;
  const minP = o.minP ?? DEFAULT_SAMPLING.minP;
  const repeatPenalty = o.repeatPenalty ?? DEFAULT_SAMPLING.repeatPenalty;
  const repeatLastN = o.repeatLastN ?? DEFAULT_SAMPLING.repeatLastN;
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  return {
    temperature: check('temperature', temperature, temperature >= 0 && temperature <= 100, 'from 0 to 100'),
    topK: check('top_k', topK, Number.isInteger(topK) && topK >= 0, 'an integer >= 0'),
    topP: check('top_p', topP, topP > 0 && topP <= 1, 'in (0, 1]'),
    minP: check('min_p', minP, minP >= 0 && minP < 1, 'in [0, 1)'),
    repeatPenalty: check('repeat_penalty', repeatPenalty, repeatPenalty > 0 && repeatPenalty <= 10, 'in (0, 10]'),
    repeatLastN: check('repeat_last_n', repeatLastN, Number.isInteger(repeatLastN) && repeatLastN >= 0, 'an integer >= 0'),
    seed: check('seed', seed, Number.isSafeInteger(seed) && seed >= 0, 'a non-negative integer'),
  };
}
