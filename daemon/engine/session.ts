// A conversation's KV cache and the generation loop: prefill, sample, stream, stop.
import { Detokenizer } from './tokenizer/detokenizer.js';
import { loadAddon, type NativeContext, type NativeModel, type NativeSampler } from './addon/native.js';
import type { TokenConstraint } from './constraints/token-constraint.js';
import { vocabIndex } from './constraints/vocab-index.js';
import type { PromptInput } from './prompt-input.js';
import { resolveSampling, type SamplingOptions } from './sampling.js';
import { StopStrings } from './stop-strings.js';
import type { Tokenizer } from './tokenizer/tokenizer.js';

export interface SessionOptions {
  /** Tokens of context (default and maximum: the model's context length). */
  contextSize?: number;
  /** Most prompt tokens evaluated in one step (default 256). */
  batchSize?: number;
}

/** What a session needs of its model (a BitnetModel; named here so that the two files do not import
 * each other). */
export interface SessionModel {
  readonly native: NativeModel;
  readonly contextLength: number;
  readonly tokenizer: Tokenizer;
  promptTokens(input: PromptInput): number[];
  /** Runs one evaluation in turn with every other on this model. */
  compute<T>(evaluation: () => Promise<T>): Promise<T>;
}

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default: until a stop token or the end of the context). */
  maxTokens?: number;
  /** Strings that end the answer; they are not part of the returned text. */
  stop?: string[];
  /** Keep going past end-of-text / end-of-turn tokens. */
  ignoreEos?: boolean;
  /** Evaluate the prompt one token at a time instead of in batches (same result, slower). */
  oneByOne?: boolean;
  /** Aborting ends the generation within one token, with stop reason "cancelled". */
  signal?: AbortSignal;
  /** Only tokens it allows are sampled; an answer cut off by the length is completed by it. */
  constraint?: TokenConstraint;
}

export type StopReason = 'eos' | 'length' | 'stop' | 'context' | 'cancelled';

export interface GenerationStats {
  promptTokens: number;
  /** Prompt tokens found in the KV cache from an earlier call (not evaluated again). */
  cachedTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerS: number;
  decodeTokensPerS: number;
  stopReason: StopReason;
}

export interface TokenChunk {
  /** New text; may be '' while a multi-byte character is incomplete or a stop string may be starting. */
  text: string;
  tokenId: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  stats: GenerationStats;
}

export class PromptTooLongError extends Error {
  constructor(readonly promptTokens: number, readonly contextSize: number) {
    super(`the prompt is ${promptTokens} tokens but the context holds ${contextSize}; shorten it or raise the context size`);
    this.name = 'PromptTooLongError';
  }
}

const DEFAULT_BATCH = 256;

export class Session {
  readonly contextSize: number;
  readonly batchSize: number;
  private readonly ctx: NativeContext;
  /** The tokens whose keys and values are in the cache, in order. */
  private cached: number[] = [];
  private busy = false;
  /** Allowed tokens and stop tokens together, for a constrained draw (reused: up to a vocabulary of ids). */
  private candidates = new Int32Array(0);

  constructor(private readonly model: SessionModel, options: SessionOptions) {
    const max = model.contextLength;
    const size = Math.min(options.contextSize ?? max, max);
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`contextSize must be an integer >= 2 (got ${size})`);
    const batch = options.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batchSize must be a positive integer (got ${batch})`);
    this.contextSize = size;
    this.batchSize = Math.min(batch, size);
    const addon = loadAddon();
    this.ctx = new addon.Context(model.native, size, this.batchSize);
  }

  /** Memory reserved for this session's KV cache (resident only as far as it is filled). */
  get kvBytes(): number {
    return this.ctx.kvBytes;
  }

  /** Memory the cached tokens' keys and values take. */
  get kvBytesUsed(): number {
    return this.ctx.kvBytesUsed;
  }

  /** The tokens whose keys and values are in the cache, in order. */
  get cachedTokens(): readonly number[] {
    return this.cached;
  }

  /** True while a generation or evaluation runs. */
  get running(): boolean {
    return this.busy;
  }

  /** Forgets the conversation held in the cache. */
  reset(): void {
    this.cached = [];
    this.ctx.truncate(0);
  }

  /** Writes the cached tokens' keys and values to a file; `stamp` names what computed them. */
  async save(path: string, stamp: string): Promise<void> {
    await this.exclusive(() => this.ctx.save(path, Int32Array.from(this.cached), stamp));
  }

  /** Replaces the cache with one saved by save() under the same stamp; empty if that fails. */
  async restore(path: string, stamp: string): Promise<void> {
    this.cached = [];
    const tokens = await this.exclusive(() => this.ctx.load(path, stamp));
    this.cached = Array.from(tokens);
  }

  private async exclusive<T>(f: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('this session is generating');
    this.busy = true;
    try {
      return await f();
    } finally {
      this.busy = false;
    }
  }

  /** Runs a generation to the end; onToken sees each chunk as it is produced. */
  async generate(input: PromptInput, options: GenerateOptions = {}, onToken?: (c: TokenChunk) => void): Promise<GenerationResult> {
    const it = this.stream(input, options);
    for (;;) {
      const step = await it.next();
      if (step.done) return step.value;
      onToken?.(step.value);
    }
  }

  /** Yields text chunks; the generator's return value holds the whole text and the stats. */
  async *stream(input: PromptInput, options: GenerateOptions = {}): AsyncGenerator<TokenChunk, GenerationResult, void> {
    if (this.busy) throw new Error('this session is already generating; use another session or wait');
    this.busy = true;
    try {
      return yield* this.run(input, options);
    } finally {
      this.busy = false;
    }
  }

  /** Teacher-forced evaluation: the logits after each of the given tokens (for oracle tests). */
  async logitsFor(tokens: number[], options: { oneByOne?: boolean } = {}): Promise<Float32Array[]> {
    if (tokens.length > this.contextSize) throw new PromptTooLongError(tokens.length, this.contextSize);
    if (this.busy) throw new Error('this session is already generating');
    this.busy = true;
    try {
      this.reset();
      const rows: Float32Array[] = [];
      const step = options.oneByOne ? 1 : this.batchSize;
      for (let i = 0; i < tokens.length; i += step) {
        const chunk = tokens.slice(i, i + step);
        await this.model.compute(() => this.ctx.eval(Int32Array.from(chunk), true));
        this.cached.push(...chunk);
        for (let r = 0; r < chunk.length; r++) rows.push(this.ctx.logits(r));
      }
      return rows;
    } finally {
      this.busy = false;
    }
  }

  private async *run(input: PromptInput, options: GenerateOptions): AsyncGenerator<TokenChunk, GenerationResult, void> {
    const tokenizer = this.model.tokenizer;
    const prompt = this.model.promptTokens(input);
    const maxTokens = options.maxTokens ?? Infinity;
    if (!(maxTokens >= 0)) throw new RangeError(`maxTokens must be >= 0 (got ${maxTokens})`);
    if (prompt.length === 0) throw new Error('the prompt is empty');
    if (prompt.length >= this.contextSize) throw new PromptTooLongError(prompt.length, this.contextSize);
    const sampler = new (loadAddon().Sampler)(resolveSampling(options));
    const signal = options.signal;

    // Keep the cached prefix this prompt shares with the last one; at least one token is evaluated
    // so that there are logits to sample from.
    let keep = 0;
    while (keep < this.cached.length && keep < prompt.length - 1 && this.cached[keep] === prompt[keep]) keep++;
    this.cached.length = keep;
    this.ctx.truncate(keep);

    const t0 = performance.now();
    const step = options.oneByOne ? 1 : this.batchSize;
    let stopReason: StopReason | undefined;
    for (let i = keep; i < prompt.length && !signal?.aborted; i += step) {
      await this.evaluate(prompt.slice(i, Math.min(i + step, prompt.length)));
    }
    const t1 = performance.now();
    for (const id of prompt) sampler.accept(id);

    const detok = new Detokenizer(tokenizer);
    const stops = new StopStrings(options.stop ?? []);
    const generated: number[] = [];
    let text = '';
    let t2 = t1;
    const constraint = options.constraint;
    while (stopReason === undefined) {
      if (signal?.aborted) {
        stopReason = 'cancelled';
        break;
      }
      if (generated.length >= maxTokens) {
        stopReason = 'length';
        break;
      }
      if (constraint?.finished) {
        stopReason = 'eos'; // a whole document: nothing may follow it
        break;
      }
      const id = constraint?.active ? this.sampleConstrained(sampler, constraint) : sampler.sample(this.ctx);
      if (id < 0 || (tokenizer.stopIds.has(id) && !options.ignoreEos)) {
        stopReason = 'eos';
        break;
      }
      generated.push(id);
      sampler.accept(id);
      constraint?.accept(tokenizer.bytesOf(id));
      const out = stops.push(detok.push(id));
      text += out.emit;
      t2 = performance.now();
      yield { text: out.emit, tokenId: id };
      if (out.stopped) stopReason = 'stop';
      else if (this.cached.length >= this.contextSize) stopReason = 'context';
      else if (generated.length < maxTokens && !signal?.aborted) await this.evaluate([id]);
    }
    if (stopReason !== 'stop') {
      let tail = stops.push(detok.flush()).emit + stops.flush();
      if (constraint && !constraint.complete) tail += constraint.finish(); // cut off: made whole
      if (tail) {
        text += tail;
        yield { text: tail, tokenId: -1 };
      }
    }

    const prefillMs = t1 - t0;
    const decodeMs = t2 - t1;
    const evaluated = prompt.length - keep;
    return {
      text,
      tokens: generated,
      stats: {
        promptTokens: prompt.length,
        cachedTokens: keep,
        generatedTokens: generated.length,
        prefillMs,
        decodeMs,
        prefillTokensPerS: prefillMs > 0 ? (evaluated * 1000) / prefillMs : 0,
        decodeTokensPerS: decodeMs > 0 ? (generated.length * 1000) / decodeMs : 0,
        stopReason,
      },
    };
  }

  /** The next token among those the constraint allows, drawn as the sampler would draw among all of
   * them: the constraint finds them from its state (vocab-index.ts, trie-walk.ts) without trying the
   * 128,000 tokens one by one. Stop tokens may come where the answer is whole. */
  private sampleConstrained(sampler: NativeSampler, constraint: TokenConstraint): number {
    const tokenizer = this.model.tokenizer;
    let allowed = constraint.allowedTokens(vocabIndex(tokenizer));
    if (constraint.complete) {
      const n = allowed.length + tokenizer.stopIds.size;
      if (this.candidates.length < n) this.candidates = new Int32Array(Math.max(n, tokenizer.vocabSize));
      this.candidates.set(allowed);
      this.candidates.set([...tokenizer.stopIds], allowed.length);
      allowed = this.candidates.subarray(0, n);
    }
    return allowed.length ? sampler.sampleFrom(this.ctx, allowed) : -1; // -1: nothing may come next
  }

  private async evaluate(tokens: number[]): Promise<void> {
    await this.model.compute(() => this.ctx.eval(Int32Array.from(tokens), false));
    this.cached.push(...tokens);
  }
}
