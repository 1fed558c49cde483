// Synthetic BitNet b1.58 models in the exact official format: I2_S ternary projections with one scale
// per tensor, F32 norms, an F16 embedding tied to the output, and the real Llama 3 vocabulary.
// Random weights: the text is noise, but every byte path of the loader and the math is exercised.
import { writeGguf, type MetaValue, type TensorSpec } from '../gguf/writer.js';
import { toHalf } from './half.js';
import { loadLlama3Vocab, type Llama3Vocab } from './llama3-vocab.js';
import { Random } from './random.js';

export interface ModelShape {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtx: number;
}

export const SHAPES: Record<string, ModelShape> = {
  /** The shape of Microsoft's BitNet b1.58 2B4T (1.19 GB). */
  '2b4t': { nEmbd: 2560, nLayer: 30, nHead: 20, nHeadKv: 5, nFf: 6912, nCtx: 4096 },
  /** The shape of ../shared/ref's reference model. */
  tiny: { nEmbd: 256, nLayer: 4, nHead: 4, nHeadKv: 2, nFf: 512, nCtx: 4096 },
  /** Smallest useful: one layer, multi-query attention. */
  micro: { nEmbd: 128, nLayer: 1, nHead: 2, nHeadKv: 1, nFf: 256, nCtx: 256 },
};

/**
 * official: the 24 keys of the published file, in its order (no tokenizer.ggml.pre, no eot id).
 * extended: the same plus tokenizer.ggml.pre = llama-bpe and tokenizer.ggml.eot_token_id.
 */
export type MetadataLayout = 'official' | 'extended';

export interface SynthOptions {
  shape: ModelShape;
  seed: number;
  layout: MetadataLayout;
  name?: string;
  /** Output and down projections get this fraction of the input projections' scale. */
  residualScale?: number;
}

const ARCH = 'bitnet-b1.58';
const FILE_TYPE_I2_S = 40;
const CHUNK = 1 << 22;

// Placeholder chat template of the official file (spec §6.3); bitnetd does not render it.
const CHAT_TEMPLATE =
  "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}" +
  "{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}" +
  "{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

// Every byte whose four 2-bit codes are valid ternary codes (0, 1, 2): 81 of them. Picking one
// uniformly picks four independent uniform ternary weights.
const TERNARY_BYTES = (() => {
  const out: number[] = [];
  for (let b = 0; b < 256; b++) {
    if ([6, 4, 2, 0].every((s) => ((b >> s) & 3) !== 3)) out.push(b);
  }
  return Uint8Array.from(out);
})();

function* ternaryData(rows: number, cols: number, scale: number, rng: Random): Iterable<Uint8Array> {
  let left = (rows * cols) / 4;
  while (left > 0) {
    const n = Math.min(CHUNK, left);
    const chunk = new Uint8Array(n);
    for (let i = 0; i < n; i++) chunk[i] = TERNARY_BYTES[rng.below(81)]!;
    left -= n;
    yield chunk;
  }
  const trailer = Buffer.alloc(32);
  trailer.writeFloatLE(scale, 0);
  yield trailer;
}

function* normData(n: number, rng: Random): Iterable<Uint8Array> {
  const b = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) b.writeFloatLE(1 + 0.1 * rng.normal(), i * 4);
  yield b;
}

function* embeddingData(nVocab: number, nEmbd: number, std: number, rng: Random): Iterable<Uint8Array> {
  let left = nVocab * nEmbd;
  while (left > 0) {
    const n = Math.min(CHUNK / 2, left);
    const halves = new Uint16Array(n);
    for (let i = 0; i < n; i++) halves[i] = toHalf(std * rng.normal());
    left -= n;
    yield new Uint8Array(halves.buffer);
  }
}

function metadata(o: SynthOptions, vocab: Llama3Vocab): [string, MetaValue][] {
  const s = o.shape;
  const u32 = (value: number): MetaValue => ({ type: 'u32', value });
  const extended = o.layout === 'extended';
  const eotId = vocab.tokens.indexOf('<|eot_id|>');
  return [
    ['general.architecture', { type: 'string', value: ARCH }],
    ['general.name', { type: 'string', value: o.name ?? 'bitnetd-synthetic' }],
    [`${ARCH}.vocab_size`, u32(vocab.tokens.length)],
    [`${ARCH}.context_length`, u32(s.nCtx)],
    [`${ARCH}.embedding_length`, u32(s.nEmbd)],
    [`${ARCH}.block_count`, u32(s.nLayer)],
    [`${ARCH}.feed_forward_length`, u32(s.nFf)],
    [`${ARCH}.rope.dimension_count`, u32(s.nEmbd / s.nHead)],
    [`${ARCH}.attention.head_count`, u32(s.nHead)],
    [`${ARCH}.attention.head_count_kv`, u32(s.nHeadKv)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    [`${ARCH}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: 1e-5 }],
    [`${ARCH}.rope.freq_base`, { type: 'f32', value: 500000 }],
    ['general.file_type', u32(FILE_TYPE_I2_S)],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ...(extended ? [['tokenizer.ggml.pre', { type: 'string', value: 'llama-bpe' }] as [string, MetaValue]] : []),
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: new Float32Array(vocab.tokens.length) }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.tokenTypes }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: vocab.merges }],
    ['tokenizer.ggml.bos_token_id', u32(128000)],
    ['tokenizer.ggml.eos_token_id', u32(128001)],
    ...(extended ? [['tokenizer.ggml.eot_token_id', u32(eotId)] as [string, MetaValue]] : []),
    ['tokenizer.ggml.padding_token_id', u32(128001)],
    ['tokenizer.chat_template', { type: 'string', value: CHAT_TEMPLATE }],
    ['general.quantization_version', u32(2)],
  ];
}

function tensors(o: SynthOptions, nVocab: number): TensorSpec[] {
  const s = o.shape;
  const rng = new Random(o.seed);
  const kvDim = (s.nEmbd / s.nHead) * s.nHeadKv;
  const residual = o.residualScale ?? 0.25;
  // Unit-variance inputs times ternary weights (E[w^2] = 2/3) give unit-variance outputs at this scale.
  const inScale = (nIn: number): number => 1 / Math.sqrt((2 / 3) * nIn);
  const ternary = (name: string, cols: number, rows: number, scale: number): TensorSpec => ({
    name, type: 'I2_S', shape: [cols, rows], data: () => ternaryData(rows, cols, Math.fround(scale), rng),
  });
  const norm = (name: string, n: number): TensorSpec => ({ name, type: 'F32', shape: [n], data: () => normData(n, rng) });

  const list: TensorSpec[] = [
    // Logits = E . x with |x|^2 ~ nEmbd: this std keeps them around 0.5 like a calibrated model's.
    { name: 'token_embd.weight', type: 'F16', shape: [s.nEmbd, nVocab], data: () => embeddingData(nVocab, s.nEmbd, 0.5 / Math.sqrt(s.nEmbd), rng) },
    norm('output_norm.weight', s.nEmbd),
  ];
  for (let l = 0; l < s.nLayer; l++) {
    const p = `blk.${l}.`;
    list.push(
      norm(p + 'attn_norm.weight', s.nEmbd),
      ternary(p + 'attn_q.weight', s.nEmbd, s.nEmbd, inScale(s.nEmbd)),
      ternary(p + 'attn_k.weight', s.nEmbd, kvDim, inScale(s.nEmbd)),
      ternary(p + 'attn_v.weight', s.nEmbd, kvDim, inScale(s.nEmbd)),
      norm(p + 'attn_sub_norm.weight', s.nEmbd),
      ternary(p + 'attn_output.weight', s.nEmbd, s.nEmbd, residual * inScale(s.nEmbd)),
      norm(p + 'ffn_norm.weight', s.nEmbd),
      ternary(p + 'ffn_gate.weight', s.nEmbd, s.nFf, inScale(s.nEmbd)),
      ternary(p + 'ffn_up.weight', s.nEmbd, s.nFf, inScale(s.nEmbd)),
      norm(p + 'ffn_sub_norm.weight', s.nFf),
      ternary(p + 'ffn_down.weight', s.nFf, s.nEmbd, residual * inScale(s.nFf)),
    );
  }
  return list;
}

export function checkShape(s: ModelShape): void {
  const ok =
    s.nEmbd % 128 === 0 && s.nFf % 128 === 0 && s.nEmbd % s.nHead === 0 && s.nHead % s.nHeadKv === 0 &&
    (s.nEmbd / s.nHead) % 2 === 0 && s.nLayer >= 1 && s.nCtx >= 2;
  if (!ok) {
    throw new Error('shape: hidden and ffn sizes must be multiples of 128, hidden a multiple of heads (even head size), heads a multiple of kv heads');
  }
}

/** Writes a synthetic model; the same options always give the same bytes. */
export async function writeSyntheticModel(path: string, options: SynthOptions): Promise<void> {
  checkShape(options.shape);
  const vocab = await loadLlama3Vocab();
  writeGguf(path, metadata(options, vocab), tensors(options, vocab.tokens.length));
}
