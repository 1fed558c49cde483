// How far the int8 output head (q8) is from the exact F16 one: teacher-forced over a long token run,
// the largest logit difference, and whether the top-1 token agrees wherever F16's top-1 leads the
// runner-up by more than 0.05. Used by run.ts and runnable alone:
//   node dist/bench/head-accuracy.js MODEL [tokens]
import { fileURLToPath } from 'node:url';
import { BitnetModel } from '../daemon/engine/index.js';
import { Random } from '../daemon/synth/random.js';

export interface HeadAccuracy {
  positions: number;
  max_abs_diff: number;
  /** Positions where F16's top-1 margin exceeds 0.05, and how many of them q8's top-1 matches. */
  confident_positions: number;
  confident_top1_agree: number;
}

function top2(row: Float32Array): [number, number, number] {
  let a = -Infinity, b = -Infinity, ai = -1;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > a) {
      b = a;
      a = v;
      ai = i;
    } else if (v > b) b = v;
  }
  return [ai, a, b];
}

export async function headAccuracy(path: string, n = 512, threads = 2): Promise<HeadAccuracy> {
  const rng = new Random(2024);
  const ids = [128000, ...Array.from({ length: n - 1 }, () => 1000 + rng.below(100_000))];
  const rows = async (head: 'f16' | 'q8') => {
    const model = await BitnetModel.load(path, { threads, head });
    return model.createSession({ contextSize: n + 1, batchSize: 256 }).logitsFor(ids);
  };
  const exact = await rows('f16');
  const q8 = await rows('q8');
  let maxDiff = 0, confident = 0, agree = 0;
  exact.forEach((row, p) => {
    const other = q8[p]!;
    for (let i = 0; i < row.length; i++) maxDiff = Math.max(maxDiff, Math.abs(row[i]! - other[i]!));
    const [top, first, second] = top2(row);
    if (first - second > 0.05) {
      confident++;
      if (top2(other)[0] === top) agree++;
    }
  });
  return { positions: n, max_abs_diff: maxDiff, confident_positions: confident, confident_top1_agree: agree };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, n] = process.argv.slice(2);
  if (!path) throw new Error('usage: head-accuracy MODEL [tokens]');
  console.log(JSON.stringify(await headAccuracy(path, n ? Number(n) : 512)));
}
