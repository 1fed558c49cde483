// The reference outputs of bitnet.cpp in ../shared/ref (see its README) and ways to compare logits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { refDir } from './paths.js';

export interface ReferenceRun {
  prompt: string;
  n_threads: number;
  prompt_eval: 'single_batch' | 'token_by_token';
  prompt_ids: number[];
  generated_ids: number[];
  last_prompt_top10: [number, number][];
  gen_step_top10: [number, number][][];
}

export interface Reference {
  model: string;
  runs: ReferenceRun[];
  last_logits_files: Record<string, string>;
}

export function loadReference(): Reference {
  return JSON.parse(readFileSync(join(refDir(), 'synth-tiny-i2_s.ref.json'), 'utf8')) as Reference;
}

export function referenceModelPath(): string {
  return join(refDir(), 'synth-tiny-i2_s.gguf');
}

export function referenceLastLogits(promptIndex: number): Float32Array {
  const ref = loadReference();
  const buf = readFileSync(join(refDir(), ref.last_logits_files[String(promptIndex)]!));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** Largest |ours[id] - logit| over reference [id, logit] pairs. */
export function topDiff(ours: Float32Array, ref: [number, number][]): number {
  return Math.max(...ref.map(([id, logit]) => Math.abs(ours[id]! - logit)));
}
