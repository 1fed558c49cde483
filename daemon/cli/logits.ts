// bitnetd logits -m MODEL --ids 128000,791,...: teacher-forced logits, one JSON line per position.
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { BitnetModel } from '../engine/index.js';
import { addModelOptions, intArg } from './options.js';

function parseIds(value: string): number[] {
  const ids = value.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new InvalidArgumentError('expected comma-separated non-negative token ids');
  }
  return ids;
}

/** The k largest entries as [id, logit] pairs, largest first. */
export function topK(logits: Float32Array, k: number): [number, number][] {
  const best: [number, number][] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (best.length < k || v > best[best.length - 1]![1]) {
      let at = best.length;
      while (at > 0 && best[at - 1]![1] < v) at--;
      best.splice(at, 0, [i, v]);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

export function logitsCommand(): Command {
  return addModelOptions(new Command('logits'), 'f16')
    .description('evaluate token ids teacher-forced and print the top logits at every position')
    .requiredOption('--ids <ids>', 'comma-separated token ids, BOS included', parseIds)
    .option('--top <k>', 'how many [id, logit] pairs per position', intArg(1, 1000), 10)
    .option('--one-by-one', 'evaluate one token at a time instead of in one batch')
    .option('--out <file>', 'also write the last position\'s full logits as little-endian float32')
    .action(async (flags: { model: string; threads: number; head: 'f16' | 'q8'; ids: number[]; top: number; oneByOne?: boolean; out?: string }) => {
      const model = await BitnetModel.load(flags.model, { threads: flags.threads, head: flags.head });
      const session = model.createSession({ contextSize: Math.min(model.contextLength, Math.max(2, flags.ids.length)), batchSize: 512 });
      const rows = await session.logitsFor(flags.ids, { oneByOne: flags.oneByOne ?? false });
      rows.forEach((row, pos) => {
        const top = topK(row, flags.top).map(([id, v]) => [id, Math.round(v * 1e6) / 1e6]);
        console.log(JSON.stringify({ pos, id: flags.ids[pos], top }));
      });
      if (flags.out) {
        const last = rows[rows.length - 1]!;
        writeFileSync(flags.out, Buffer.from(last.buffer, last.byteOffset, last.byteLength));
      }
    });
}
