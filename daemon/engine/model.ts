// A loaded BitNet model: metadata, tokenizer, thread count, and the sessions that run on it.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatChat } from './chat-format.js';
import { loadAddon, type NativeModel, type NativeModelInfo } from './addon/native.js';
import type { PromptInput } from './prompt-input.js';
import { Session, type SessionModel, type SessionOptions } from './session.js';
import { Tokenizer } from './tokenizer/tokenizer.js';
import { WorkQueue } from './work-queue.js';

export interface LoadOptions {
  /** Compute threads (default: 1). Changeable later with setThreads(). */
  threads?: number;
  /** Kernel set, one of loadAddon().kernels (default: the best this CPU runs). */
  kernel?: string;
  /** Output head: "f16" as in the file (default), or "q8" (int8 rows built at load: half the bytes per token). */
  head?: 'f16' | 'q8';
}

type MetaValue = string | number | boolean | null | undefined;

/** Whether an evaluation failed because the model file changed under the running engine (truncated in
 * place: the token embeddings are read from it): nothing will evaluate again until a restart. */
export function isModelFileLost(err: unknown): boolean {
  return err instanceof Error && /cannot read the model file at byte/.test(err.message);
}

export class BitnetModel implements SessionModel {
  readonly info: NativeModelInfo;
  /** Serializes evaluation: one forward pass at a time on this model. */
  private readonly queue = new WorkQueue();
  private tokenizerCache: Tokenizer | undefined;
  private duty = 1;
  /** When the duty cycle lets the next evaluation start (performance.now() time). */
  private resumeAt = 0;

  private constructor(readonly native: NativeModel) {
    this.info = native.info();
  }

  /** Maps and validates the file on a worker thread; rejects with a precise error for a bad file. */
  static async load(path: string, options: LoadOptions = {}): Promise<BitnetModel> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError(`threads must be an integer from 1 to 256 (got ${threads})`);
    }
    if (!existsSync(path)) {
      throw new Error(
        `${path}: no such file. Download ggml-model-i2_s.gguf from Hugging Face (microsoft/bitnet-b1.58-2B-4T-gguf), ` +
          'or write a synthetic test model with "bitnetd synth -o FILE"',
      );
    }
    const native = await loadAddon().loadModel(path, threads, options.kernel, options.head);
    const model = new BitnetModel(native);
    model.tokenizer; // fail at load, not at the first prompt, when the vocabulary is unusable
    return model;
  }

  get path(): string {
    return this.info.path;
  }

  get contextLength(): number {
    return this.info.hparams.nCtxTrain;
  }

  /** The kernel set this model computes with. */
  get kernel(): string {
    return this.info.kernel;
  }

  get threads(): number {
    return this.native.threads();
  }

  /** Takes effect at the next evaluation step (between tokens). */
  setThreads(n: number): void {
    this.native.setThreads(n);
  }

  /** The share of the time evaluations may run, (0, 1]: the power governor's last resort. */
  get dutyCycle(): number {
    return this.duty;
  }

  /** Below 1, each evaluation is followed by a rest of its own length × (1 − duty) / duty before the
   * next one may start; the result is not held back, so a token streams out at once. */
  setDutyCycle(duty: number): void {
    if (!(duty > 0 && duty <= 1)) throw new RangeError(`the duty cycle must be in (0, 1] (got ${duty})`);
    this.duty = duty;
    if (duty === 1) this.resumeAt = 0;
  }

  /** Runs one evaluation in turn with every other on this model, paced by the duty cycle. */
  compute<T>(evaluation: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const rest = this.resumeAt - performance.now();
      if (rest > 0) await sleep(rest);
      const t0 = performance.now();
      try {
        return await evaluation();
      } finally {
        const t1 = performance.now();
        this.resumeAt = this.duty < 1 ? t1 + ((t1 - t0) * (1 - this.duty)) / this.duty : 0;
      }
    });
  }

  meta(key: string): MetaValue {
    return this.info.metadata.find((m) => m.key === key)?.value;
  }

  get tokenizer(): Tokenizer {
    if (!this.tokenizerCache) {
      const num = (key: string): number | undefined => {
        const v = this.meta(key);
        return typeof v === 'number' ? v : undefined;
      };
      const pre = this.meta('tokenizer.ggml.pre');
      const addBos = this.meta('tokenizer.ggml.add_bos_token');
      this.tokenizerCache = this.named(() => new Tokenizer(this.native.vocab(), {
        model: String(this.meta('tokenizer.ggml.model') ?? ''),
        ...(typeof pre === 'string' ? { pre } : {}),
        ...(num('tokenizer.ggml.bos_token_id') !== undefined ? { bosId: num('tokenizer.ggml.bos_token_id')! } : {}),
        ...(num('tokenizer.ggml.eos_token_id') !== undefined ? { eosId: num('tokenizer.ggml.eos_token_id')! } : {}),
        ...(num('tokenizer.ggml.eot_token_id') !== undefined ? { eotId: num('tokenizer.ggml.eot_token_id')! } : {}),
        ...(typeof addBos === 'boolean' ? { addBos } : {}),
      }));
      if (this.tokenizerCache.vocabSize !== this.info.hparams.nVocab) {
        throw new Error(
          `${this.path}: the tokenizer has ${this.tokenizerCache.vocabSize} tokens but the model ${this.info.hparams.nVocab}`,
        );
      }
    }
    return this.tokenizerCache;
  }

  /** Runs f, naming the model file in what it throws (a bad tokenizer table is a bad file). */
  private named<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof Error && !err.message.startsWith(this.path)) err.message = `${this.path}: ${err.message}`;
      throw err;
    }
  }

  /** The token ids a prompt input stands for. */
  promptTokens(input: PromptInput): number[] {
    if ('tokens' in input) return input.tokens;
    const system = input.system !== undefined ? [{ role: 'system' as const, content: input.system }] : [];
    if ('messages' in input) return formatChat(this.tokenizer, [...system, ...input.messages]);
    if (input.raw) return this.tokenizer.encode((input.system ? input.system + '\n' : '') + input.prompt);
    return formatChat(this.tokenizer, [...system, { role: 'user', content: input.prompt }]);
  }

  createSession(options: SessionOptions = {}): Session {
    return new Session(this, options);
  }
}
