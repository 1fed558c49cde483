// Loads the native addon and types its surface. Nothing else in the daemon touches the addon directly.
import { createRequire } from 'node:module';
import { findUsableAddon, type AddonCandidate } from './addon-loader.js';

export interface NativeHParams {
  arch: string;
  nVocab: number;
  nCtxTrain: number;
  nEmbd: number;
  nLayer: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nRot: number;
  ropeBase: number;
  normEps: number;
  tiedOutput: boolean;
}

export interface NativeMetadataEntry {
  key: string;
  type: string;
  value?: string | number | boolean | null;
  elementType?: string;
  length?: number;
}

export interface NativeTensorInfo {
  name: string;
  type: string;
  shape: number[];
  offset: number;
  bytes: number;
}

export interface NativeModelInfo {
  path: string;
  /** The kernel set this model computes with. */
  kernel: string;
  /** How the output matrix is held: as in the file (f16) or int8 rows built at load (q8). */
  head: 'f16' | 'q8';
  /** Memory of the weights copied out of the file (ternary matrices and output head). */
  weightBytes: number;
  fileSize: number;
  ggufVersion: number;
  alignment: number;
  hparams: NativeHParams;
  metadata: NativeMetadataEntry[];
  tensors: NativeTensorInfo[];
}

export interface NativeVocab {
  tokens: string[];
  merges: string[];
  tokenTypes: Int32Array | null;
}

export interface NativeModel {
  info(): NativeModelInfo;
  vocab(): NativeVocab;
  setThreads(n: number): void;
  threads(): number;
}

export interface NativeContext {
  eval(tokens: Int32Array, allLogits: boolean): Promise<void>;
  logits(row?: number): Float32Array;
  truncate(n: number): void;
  /** Writes the keys and values of these tokens (a prefix of what it holds) to a file, fsynced. */
  save(path: string, tokens: Int32Array, stamp: string): Promise<void>;
  /** Replaces the cache with a saved one made with the same stamp; its tokens. Rejects (and empties) on any mismatch. */
  load(path: string, stamp: string): Promise<Int32Array>;
  readonly nPast: number;
  readonly size: number;
  /** Memory of the KV cache. */
  readonly kvBytes: number;
  /** Bytes of KV cache the filled positions take (their pages; the rest is reserved only). */
  readonly kvBytesUsed: number;
}

export interface NativeSamplerParams {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  repeatLastN: number;
  seed: number;
}

export interface NativeSampler {
  sample(ctx: NativeContext): number;
  /** The same draw among these ids only; -1 when none is a token. */
  sampleFrom(ctx: NativeContext, ids: Int32Array): number;
  /** The n most likely ids after the repetition penalty, best first. */
  rank(ctx: NativeContext, n: number): Int32Array;
  accept(token: number): void;
}

export interface NativeAddon {
  /** kernel: a name from `kernels`; by default the best this CPU runs (or BITNETD_KERNEL). */
  loadModel(path: string, threads: number, kernel?: string, head?: 'f16' | 'q8'): Promise<NativeModel>;
  Context: new (model: NativeModel, nCtx: number, nBatch: number) => NativeContext;
  Sampler: new (params: NativeSamplerParams) => NativeSampler;
  /** The kernel sets this CPU runs, the scalar reference first. */
  kernels: string[];
  /** A kernel's exact sums of packed ternary rows laid end to end with nTokens (1-8) int8 rows laid end
   * to end: result[t * nRows + r]. */
  i2sDot(packedRows: Uint8Array, q: Int8Array, nTokens?: number, kernel?: string): number[];
  /** A kernel's dot products of one F16 row with nTokens (1-8) float rows laid end to end. */
  f16Dot(e: Uint16Array, x: Float32Array, nTokens?: number, kernel?: string): number[];
  /** A kernel's int8-head dot products of one row (scale per 32 in ws) with nTokens (1-8) activations
   * given as two int8 planes per token (xq) and a scale per 32 (xs); see kernels.h, Q8DotFn. */
  q8Dot(w: Int8Array, ws: Float32Array, xq: Int8Array, xs: Float32Array, nTokens?: number, kernel?: string): number[];
  /** A kernel's attention scores: q.length / dim query rows against k.length / dim F16 key rows,
   * row-major (kernels.h, AttnScoresFn). */
  attnScores(q: Float32Array, k: Uint16Array, dim: number, kernel?: string): Float32Array;
  /** out + a kernel's weighted sums of F16 value rows, for nKeys.length rows each seeing its first
   * nKeys[i] value rows with weights p[i][j] (kernels.h, AttnValuesFn). */
  attnValues(p: Float32Array, nKeys: Uint32Array, v: Uint16Array, out: Float32Array, kernel?: string): Float32Array;
  /** Read bandwidth of this machine in GB/s (best of five reads of a buffer of that many MB). */
  probeBandwidth(megabytes: number, threads: number): number;
  /** x86-64 builds only: billions of vpmaddubsw + add pairs a second on that many threads, from L1 (the
   * least work any AVX2 ternary kernel does per 32 multiply-adds); null without AVX2. */
  probeAvx2Peak?(threads: number): number | null;
  /** sd_notify(3): true when sent, false when NOTIFY_SOCKET is unset. */
  sdNotify(state: string): boolean;
}

let cached: { addon: NativeAddon; from: AddonCandidate } | undefined;

export function loadAddon(): NativeAddon {
  return loaded().addon;
}

/** Which addon file this process runs, and where it came from (a prebuild, the local build, ...). */
export function loadedAddon(): AddonCandidate {
  return loaded().from;
}

function loaded(): { addon: NativeAddon; from: AddonCandidate } {
  if (!cached) {
    const from = findUsableAddon();
    cached = { addon: createRequire(import.meta.url)(from.path) as NativeAddon, from };
  }
  return cached;
}
