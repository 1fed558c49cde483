// One benchmark configuration in its own process (so that its peak RSS is its own): load the model,
// then time time-to-first-token, prefill (pp128, pp512) and decode (tg64, tg128), each `repeats` times,
// the read bandwidth probed right before each tg128 (in a process of its own).
// Prints one JSON object on stdout. Run by bench/run.ts.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { BitnetModel, type Session } from '../daemon/engine/index.js';
import { Random } from '../daemon/synth/random.js';

export interface Measurement {
  kernel: string;
  threads: number;
  head: string;
  context: number;
  load_ms: number;
  kv_bytes: number;
  ttft_ms: number[];
  pp128: number[];
  pp512: number[];
  tg64: number[];
  tg128: number[];
  /** GB/s, probed right before each tg128 run. */
  bandwidth_gbs: number[];
  peak_rss_kb: number;
}

function probeBandwidth(threads: number): number {
  const script = fileURLToPath(new URL('./probe.js', import.meta.url));
  return Number(execFileSync(process.execPath, [script, String(threads)], { encoding: 'utf8' }));
}

const program = new Command('measure')
  .requiredOption('--model <path>')
  .requiredOption('--threads <n>', 'threads', Number)
  .option('--head <mode>', 'output head', 'f16')
  .option('--context <n>', 'context size', Number, 2048)
  .option('--repeats <n>', 'repeats', Number, 3)
  .parse();
const opts = program.opts<{ model: string; threads: number; head: string; context: number; repeats: number }>();

/** Ordinary (non-special) token ids, the same every run. */
function tokens(n: number, seed: number): number[] {
  const rng = new Random(seed);
  return [128000, ...Array.from({ length: n - 1 }, () => 1000 + rng.below(100_000))];
}

async function prefill(session: Session, n: number, seed: number): Promise<number> {
  session.reset();
  const r = await session.generate({ tokens: tokens(n, seed) }, { maxTokens: 0 });
  return r.stats.prefillTokensPerS;
}

async function decode(session: Session, n: number, seed: number): Promise<number> {
  session.reset();
  const r = await session.generate({ tokens: tokens(8, seed) }, { maxTokens: n, ignoreEos: true, seed });
  return r.stats.decodeTokensPerS;
}

async function timeToFirstToken(session: Session): Promise<number> {
  session.reset();
  const t0 = performance.now();
  const it = session.stream({ prompt: 'Turn on the kitchen light, please.' }, { maxTokens: 1, ignoreEos: true });
  await it.next();
  const ms = performance.now() - t0;
  while (!(await it.next()).done);
  return ms;
}

const t0 = performance.now();
const model = await BitnetModel.load(opts.model, { threads: opts.threads, head: opts.head as 'f16' | 'q8' });
const loadMs = performance.now() - t0;
const session = model.createSession({ contextSize: opts.context, batchSize: 512 });
await decode(session, 4, 99); // warm-up: first touches of every page
const out: Measurement = {
  kernel: model.kernel,
  threads: opts.threads,
  head: model.info.head,
  context: session.contextSize,
  load_ms: Math.round(loadMs),
  kv_bytes: session.kvBytes,
  ttft_ms: [],
  pp128: [],
  pp512: [],
  tg64: [],
  tg128: [],
  bandwidth_gbs: [],
  peak_rss_kb: 0,
};
// Interleaved, so that a drift of the machine's speed spreads over every figure alike.
for (let rep = 0; rep < opts.repeats; rep++) {
  out.ttft_ms.push(await timeToFirstToken(session));
  out.pp128.push(await prefill(session, 128, rep));
  out.pp512.push(await prefill(session, 512, rep));
  out.tg64.push(await decode(session, 64, rep));
  out.bandwidth_gbs.push(probeBandwidth(opts.threads));
  out.tg128.push(await decode(session, 128, rep));
}
out.peak_rss_kb = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify(out) + '\n');
