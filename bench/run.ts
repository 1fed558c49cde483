// npm run bench: speed and memory of the engine on a 2B4T-shaped synthetic model (same layout and sizes
// as Microsoft's file; written once by the project's own writer into .cache/). Measures each thread
// count in its own process, the read bandwidth probed beside every decode run, prints a table and
// writes JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadAddon } from '../daemon/engine/index.js';
import { SHAPES, writeSyntheticModel } from '../daemon/synth/synthetic-model.js';
import { headAccuracy } from './head-accuracy.js';
import { constrainedTiming } from './constrained.js';
import { promptCacheTiming } from './prompt-cache.js';
import type { Measurement } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const program = new Command('bench')
  .description('measure bitnetd on a 2B4T-shaped synthetic model')
  .option('--model <path>', 'model file (default: the synthetic 2B4T-shaped file, made on first use)')
  .option('--threads <list>', 'thread counts, comma-separated (default: 1, 2 and all cores)')
  .option('--kernels <list>', 'kernel sets, comma-separated, each forced with BITNETD_KERNEL (default: every SIMD set this CPU runs)')
  .option('--repeats <n>', 'repeats of every figure (median and spread are reported)', Number, 3)
  .option('--context <n>', 'context size', Number, 2048)
  .option('--out <file>', 'JSON results', join(ROOT, '.cache', 'bench', 'latest.json'))
  .parse();
const opts = program.opts<{ model?: string; threads?: string; kernels?: string; repeats: number; context: number; out: string }>();

async function benchModel(): Promise<string> {
  if (opts.model) return opts.model;
  const path = join(ROOT, '.cache', 'bench-2b4t.gguf');
  if (!existsSync(path)) {
    process.stderr.write(`writing the 2B4T-shaped synthetic model to ${path} (once; about 20 s)\n`);
    mkdirSync(dirname(path), { recursive: true });
    await writeSyntheticModel(path + '.tmp', { shape: SHAPES['2b4t']!, seed: 1, layout: 'official' });
    renameSync(path + '.tmp', path);
  }
  return path;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
const fmt = (xs: number[], digits = 1) => `${median(xs).toFixed(digits)} ±${(spread(xs) / 2).toFixed(digits)}`;

const modelPath = await benchModel();
const all = availableParallelism();
const threadCounts = opts.threads ? opts.threads.split(',').map(Number) : [...new Set([1, 2, all].filter((n) => n <= all))];

// Bytes a generated token reads: every ternary matrix and the output matrix (the embedding lookup,
// norms and KV cache are small beside them).
const info = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'dist/daemon/cli.js'), 'info', modelPath, '--json'], { encoding: 'utf8' })) as {
  tensors: { name: string; type: string; bytes: number }[];
};
const ternaryBytes = info.tensors.filter((t) => t.type === 'I2_S').reduce((s, t) => s + t.bytes, 0);
const head = info.tensors.find((t) => t.name === 'output.weight') ?? info.tensors.find((t) => t.name === 'token_embd.weight')!;
const headElements = head.bytes / 2; // of the F16 output matrix
const headBytes = { f16: head.bytes, q8: headElements + (headElements / 32) * 4 }; // int8 plus one float scale per 32
const bytesPerToken = (h: 'f16' | 'q8') => ternaryBytes + headBytes[h];

// Every kernel set is measured (a host with AVX-512 also runs the AVX2 set, forced), the best with
// both heads, the others with the q8 head the daemon uses.
const addon = loadAddon();
const available = addon.kernels.filter((k) => k !== 'scalar');
const kernels = opts.kernels ? opts.kernels.split(',') : available.length ? available : ['scalar'];
const results: Measurement[] = [];
for (const [k, kernel] of kernels.entries()) for (const headMode of k === 0 ? (['q8', 'f16'] as const) : (['q8'] as const)) {
  for (const threads of threadCounts) {
    process.stderr.write(`measuring ${kernel} kernels, ${headMode} head, ${threads} thread(s), ${opts.repeats} repeats...\n`);
    const out = execFileSync(
      process.execPath,
      // With the node flag the daemon runs with (systemd/bitnetd.service), so that peak RSS is the daemon's.
      ['--max-semi-space-size=2', join(ROOT, 'dist/bench/measure.js'), '--model', modelPath, '--threads', String(threads), '--head', headMode,
        '--repeats', String(opts.repeats), '--context', String(opts.context)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BITNETD_KERNEL: kernel } },
    );
    results.push(JSON.parse(out) as Measurement);
  }
}
// The AVX2 set's prefill ceiling on this CPU: the fastest its cores retire one maddubs (32 multiply-adds)
// and the add that keeps it, against the multiply-adds of a token's ternary products (one per weight).
const avx2Rows = results.filter((r) => r.kernel === 'avx2');
const avx2Ceiling = avx2Rows.length && addon.probeAvx2Peak ? avx2Rows.map((r) => {
  process.stderr.write(`probing the AVX2 multiply-add ceiling on ${r.threads} thread(s)...\n`);
  const pairsPerSecond = addon.probeAvx2Peak!(r.threads)! * 1e9;
  const macsPerToken = ternaryBytes * 4;
  return { threads: r.threads, gmac_s: (pairsPerSecond * 32) / 1e9, pp_ceiling: (pairsPerSecond * 32) / macsPerToken, pp128: median(r.pp128) };
}) : [];
process.stderr.write('comparing the q8 head with the exact f16 one over 512 teacher-forced tokens...\n');
const accuracy = await headAccuracy(modelPath, 512);
process.stderr.write('timing the first token with and without a prompt-cache hit (a 1,500-token system prompt)...\n');
const cacheTiming = await promptCacheTiming(modelPath, Math.min(2, all));
process.stderr.write('constrained decoding (a Home Assistant tool call, an AI Task schema) interleaved with free decoding...\n');
const constrained = await constrainedTiming(modelPath, Math.min(2, all), opts.repeats);

// Each tg128 run against the bandwidth probed right before it.
const shares = (r: Measurement) => r.tg128.map((tg, i) => (bytesPerToken(r.head as 'f16' | 'q8') * tg) / (r.bandwidth_gbs[i]! * 1e9));
const rows = results.map((r) => {
  return [
    String(r.threads),
    r.kernel,
    r.head,
    fmt(r.pp128),
    fmt(r.pp512),
    fmt(r.tg64),
    fmt(r.tg128),
    fmt(r.ttft_ms, 0),
    `${((r.peak_rss_kb * 1024) / 1e9).toFixed(3)} GB`,
    `${fmt(r.bandwidth_gbs)} GB/s`,
    `${(median(shares(r)) * 100).toFixed(0)} %`,
  ];
});
const header = ['threads', 'kernel', 'head', 'pp128 tok/s', 'pp512 tok/s', 'tg64 tok/s', 'tg128 tok/s', 'TTFT ms', 'peak RSS', 'read bw', 'bw share'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(`model ${modelPath}; read per generated token: ternary ${(ternaryBytes / 1e9).toFixed(3)} GB + head ${(headBytes.f16 / 1e9).toFixed(3)} (f16) or ${(headBytes.q8 / 1e9).toFixed(3)} (q8)`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${all} cores; context ${opts.context}; load ${results.map((r) => r.load_ms + ' ms').join(', ')}; KV cache ${(results[0]!.kv_bytes / 1048576).toFixed(0)} MB`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log('medians of ' + opts.repeats + ' runs, ± half the spread; bw share = bytes per token x tg128 / the read bandwidth probed right before it; GB = 10^9 bytes');
for (const c of avx2Ceiling) {
  console.log(
    `AVX2 ceiling, ${c.threads} thread(s): maddubs + add from L1 at ${c.gmac_s.toFixed(0)} GMAC/s; a token's ${(ternaryBytes * 4 / 1e9).toFixed(2)} G ternary ` +
      `multiply-adds then take ${((ternaryBytes * 4) / (c.gmac_s * 1e9) * 1e3).toFixed(1)} ms: prefill <= ${c.pp_ceiling.toFixed(0)} tok/s with nothing else to do (avx2 pp128: ${(c.pp128 / c.pp_ceiling * 100).toFixed(0)} % of it)`,
  );
}
console.log(
  `q8 head vs f16 over ${accuracy.positions} teacher-forced tokens: max logit difference ${accuracy.max_abs_diff.toFixed(4)}; ` +
    `top-1 agrees at ${accuracy.confident_top1_agree} of ${accuracy.confident_positions} positions where f16's top-1 leads by > 0.05`,
);
console.log(
  `prompt cache, ${cacheTiming.system_tokens}-token system prompt, ${Math.min(2, all)} threads: first token after ${cacheTiming.miss_ms} ms on a miss, ` +
    `${cacheTiming.hit_ms} ms on a hit (${(cacheTiming.miss_ms / cacheTiming.hit_ms).toFixed(0)}x), ${cacheTiming.hit_after_other_ms} ms after another client's prompt; ` +
    `saved across a restart: ${cacheTiming.saved_mb} MB written in ${cacheTiming.save_ms} ms, read back in ${cacheTiming.load_ms} ms (page cache), then ${cacheTiming.hit_after_restart_ms} ms`,
);
console.log(`constrained decoding, ${Math.min(2, all)} threads, random weights (the worst case: every token drawn from the constraint's list), free decoding ${constrained.free_tok_s.toFixed(1)} tok/s:`);
for (const r of constrained.runs) {
  console.log(
    `  ${r.name}: ${r.decode_tok_s.toFixed(1)} tok/s (${r.vs_free.toFixed(2)}x free), finding the allowed tokens ${r.mask_ms_per_token.toFixed(2)} ms/token ` +
      `(${(r.mask_share * 100).toFixed(1)} % of a free token's time), over ${r.tokens} tokens`,
  );
}

mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify({ date: new Date().toISOString(), model: modelPath, bytes_per_token: { f16: bytesPerToken('f16'), q8: bytesPerToken('q8') }, head_accuracy: accuracy, avx2_ceiling: avx2Ceiling, prompt_cache: cacheTiming, constrained, cpu: cpus()[0]?.model, cores: all, results }, null, 2) + '\n');
console.log(`JSON: ${opts.out}`);
