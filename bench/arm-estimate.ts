// npm run bench:arm: what the Raspberry Pi 5 (Cortex-A76) and Pi 4 (Cortex-A72) should do with
// BitNet b1.58 2B4T, computed on paper from the code the cross builds contain. For each board and
// kernel set: llvm-mca's cycles per iteration of the decode, prefill and int8-head inner loops
// (bench/arm/loop-cost.ts), times the iterations a token takes, over the board's cores and clock;
// and the bytes a generated token reads over the board's memory bandwidth. Decoding runs at the
// slower of the two; prefill is compute alone. What it leaves out is printed with it (and in the README).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SHAPES } from '../daemon/synth/synthetic-model.js';
import { kMaxTileTokens, ternaryWeightsPerToken } from './arm/model-work.js';
import { compileProbe, cyclesPerBlock, hotLoop, llvmMca, type LoopSignature } from './arm/loop-cost.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const opts = new Command('bench:arm')
  .description('estimate BitNet 2B4T speed on Raspberry Pi 5 and 4 from the cross-compiled kernels (llvm-mca)')
  .option('--pi5-gbs <n>', 'read bandwidth a Pi 5 reaches, GB/s (theoretical 17.1)', Number, 11)
  .option('--pi4-gbs <n>', 'read bandwidth a Pi 4 reaches, GB/s (theoretical 12.8)', Number, 4.5)
  .option('--json', 'print JSON instead of a table')
  .parse()
  .opts<{ pi5Gbs: number; pi4Gbs: number; json?: boolean }>();

interface Isa {
  name: string;
  compiler: string;
  triple: string;
  /** The flags native/CMakeLists.txt and cross/toolchains give the set's file. */
  flags: string[];
  /** The set's kernel file, which bench/arm/probe.cc includes. */
  kernels: string;
  mattr: string;
  /** The instruction that does a loop's work, per kernel, and how many one block (128 or 32 weights) takes. */
  decode: LoopSignature;
  prefill: LoopSignature;
  head: LoopSignature;
}

/** A set's loop signatures: its work instruction, how many a ternary block and a head block take for
 * one token (a prefill tile does kMaxTileTokens tokens' worth). */
function signatures(work: RegExp, perTernaryBlock: number, perHeadBlock: number): Pick<Isa, 'decode' | 'prefill' | 'head'> {
  return {
    decode: { work, perBlock: perTernaryBlock },
    prefill: { work, perBlock: perTernaryBlock * kMaxTileTokens },
    head: { work, perBlock: perHeadBlock },
  };
}

const ISAS: Record<string, Isa> = {
  'arm64-dotprod': {
    name: 'arm64, dotprod set',
    compiler: 'aarch64-linux-gnu-g++',
    triple: 'aarch64-linux-gnu',
    flags: ['-march=armv8.2-a+dotprod'],
    kernels: 'arm_dotprod.cc',
    mattr: '+dotprod',
    ...signatures(/^sdot\b/, 8, 4),
  },
  'arm64-neon': {
    name: 'arm64, neon set',
    compiler: 'aarch64-linux-gnu-g++',
    triple: 'aarch64-linux-gnu',
    flags: ['-march=armv8-a'],
    kernels: 'arm_neon.cc',
    mattr: '',
    ...signatures(/^(smlal2?|smull2?)\b/, 16, 8),
  },
  'armhf-neon': {
    name: 'armhf (32-bit OS), neon set',
    compiler: 'arm-linux-gnueabihf-g++',
    triple: 'armv7-linux-gnueabihf',
    flags: ['-march=armv7-a', '-mfpu=neon-vfpv4', '-mfloat-abi=hard', '-mfp16-format=ieee'],
    kernels: 'arm_neon.cc',
    mattr: '+neon,+vfp4',
    ...signatures(/^(vmlal|vmull)\.s8\b/, 16, 8),
  },
};

// LLVM has no Cortex-A76 model of its own (it schedules it as an A57); Neoverse N1 is the A76's server
// sibling (the same "Ares" core) and has one, so it stands for the Pi 5. The A72 is the A57's successor
// and LLVM schedules it with the A57 model. Memory: both boards have a 32-bit LPDDR4(X) bus.
interface Board {
  board: string;
  core: string;
  mcpu: string;
  ghz: number;
  cores: number;
  readGBs: number;
  isas: string[];
}
const BOARDS: Board[] = [
  { board: 'Raspberry Pi 5', core: 'Cortex-A76', mcpu: 'neoverse-n1', ghz: 2.4, cores: 4, readGBs: opts.pi5Gbs, isas: ['arm64-dotprod', 'arm64-neon'] },
  { board: 'Raspberry Pi 4', core: 'Cortex-A72', mcpu: 'cortex-a72', ghz: 1.8, cores: 4, readGBs: opts.pi4Gbs, isas: ['arm64-neon', 'armhf-neon'] },
];

const shape = SHAPES['2b4t']!;
const VOCAB = 128_256;
const ternary = ternaryWeightsPerToken(shape);
const headWeights = VOCAB * shape.nEmbd;
const bytesPerToken = ternary / 4 + headWeights + (headWeights / 32) * 4; // 2-bit codes; int8 head and a float scale per 32

const assembly = new Map<string, string>();
function loopCycles(isa: Isa, mcpu: string, kernel: 'decode' | 'prefill' | 'head'): { cyclesPerBlock: number; instructions: number } {
  if (!assembly.has(isa.name)) {
    const kernelFile = `-DKERNEL_FILE="${join(ROOT, 'native/src/kernels', isa.kernels)}"`;
    assembly.set(isa.name, compileProbe(isa.compiler, join(ROOT, 'bench/arm/probe.cc'), [...isa.flags, kernelFile]));
  }
  const loop = hotLoop(assembly.get(isa.name)!, `mca_${kernel}`, isa[kernel]);
  const instructions = loop.instructions.length + (loop.inner?.instructions.length ?? 0);
  return { cyclesPerBlock: cyclesPerBlock(loop, isa.triple, mcpu, isa.mattr), instructions };
}

const rows = BOARDS.flatMap((b) =>
  b.isas.map((key) => {
    const isa = ISAS[key]!;
    const decode = loopCycles(isa, b.mcpu, 'decode');
    const prefill = loopCycles(isa, b.mcpu, 'prefill');
    const head = loopCycles(isa, b.mcpu, 'head');
    // Cycles a token takes on one core: blocks of 128 ternary weights and of 32 head weights.
    const decodeCycles = (ternary / 128) * decode.cyclesPerBlock + (headWeights / 32) * head.cyclesPerBlock;
    const prefillCycles = ((ternary / 128) * prefill.cyclesPerBlock) / kMaxTileTokens;
    const hz = b.ghz * 1e9 * b.cores;
    const computeTokS = hz / decodeCycles;
    const memoryTokS = (b.readGBs * 1e9) / bytesPerToken;
    return {
      board: b.board,
      core: b.core,
      llvm_model: b.mcpu,
      kernels: isa.name,
      cycles_per_block: { decode: decode.cyclesPerBlock, prefill_per_token: prefill.cyclesPerBlock / kMaxTileTokens, head: head.cyclesPerBlock },
      loop_instructions: { decode: decode.instructions, prefill: prefill.instructions, head: head.instructions },
      decode_compute_tok_s: computeTokS,
      decode_memory_tok_s: memoryTokS,
      decode_tok_s: Math.min(computeTokS, memoryTokS),
      bound: computeTokS < memoryTokS ? 'compute' : 'memory',
      prefill_tok_s: hz / prefillCycles,
    };
  }),
);

if (opts.json) {
  console.log(JSON.stringify({ llvm_mca: llvmMca(), bytes_per_token: bytesPerToken, read_gbs: { pi5: opts.pi5Gbs, pi4: opts.pi4Gbs }, rows }, null, 2));
} else {
  const header = ['board (LLVM model)', 'kernels', 'decode cycles/block', 'prefill cycles/block/token', 'head cycles/block', 'decode compute-bound tok/s', 'decode memory-bound tok/s', 'predicted decode tok/s', 'predicted prefill tok/s'];
  const cells = rows.map((r) => [
    `${r.board}, ${r.core} (${r.llvm_model})`,
    r.kernels,
    r.cycles_per_block.decode.toFixed(1),
    r.cycles_per_block.prefill_per_token.toFixed(1),
    r.cycles_per_block.head.toFixed(1),
    r.decode_compute_tok_s.toFixed(1),
    r.decode_memory_tok_s.toFixed(1),
    `${r.decode_tok_s.toFixed(1)} (${r.bound})`,
    r.prefill_tok_s.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(`BitNet 2B4T shape; a generated token reads ${(bytesPerToken / 1e9).toFixed(3)} GB (2-bit ternary weights, int8 head with its scales); a block is 128 ternary or 32 head weights`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const c of cells) console.log(line(c));
  console.log(
    `Assumptions: ${llvmMca()}; 4 cores at 2.4 GHz (Pi 5) and 1.8 GHz (Pi 4), compute split evenly over them; memory at ` +
      `${opts.pi5Gbs} GB/s read on a Pi 5 and ${opts.pi4Gbs} on a Pi 4 (--pi5-gbs, --pi4-gbs; 17.1 and 12.8 in theory). ` +
      `Left out: attention, norms, activation quantization and thread handoffs (a few % of a token on x86), the per-row ` +
      `code around each loop, cache misses inside the compute figure, and thermal throttling.`,
  );
}
