// bitnetd synth --out FILE: writes a synthetic model in the official format (tests, benchmarks).
import { Command, Option } from 'commander';
import { SHAPES, writeSyntheticModel, type MetadataLayout, type ModelShape } from '../synth/synthetic-model.js';
import { intArg } from './options.js';

interface SynthFlags {
  out: string;
  shape: string;
  seed: number;
  layout: MetadataLayout;
  embd?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  ctx?: number;
}

export function synthCommand(): Command {
  return new Command('synth')
    .description('write a synthetic BitNet model (random ternary weights, real Llama 3 vocabulary)')
    .requiredOption('-o, --out <file>', 'output file')
    .addOption(new Option('--shape <name>', 'base shape').choices(Object.keys(SHAPES)).default('tiny'))
    .addOption(new Option('--layout <layout>', 'metadata: the official file\'s 24 keys, or with pre-tokenizer and eot id').choices(['official', 'extended']).default('official'))
    .option('--seed <n>', 'random seed', intArg(0, 2 ** 32 - 1), 1)
    .option('--embd <n>', 'override the hidden size', intArg(128))
    .option('--layers <n>', 'override the layer count', intArg(1))
    .option('--heads <n>', 'override the query head count', intArg(1))
    .option('--kv-heads <n>', 'override the key/value head count', intArg(1))
    .option('--ffn <n>', 'override the feed-forward size', intArg(128))
    .option('--ctx <n>', 'override the context length', intArg(2))
    .action(async (f: SynthFlags) => {
      const base = SHAPES[f.shape]!;
      const shape: ModelShape = {
        nEmbd: f.embd ?? base.nEmbd,
        nLayer: f.layers ?? base.nLayer,
        nHead: f.heads ?? base.nHead,
        nHeadKv: f.kvHeads ?? base.nHeadKv,
        nFf: f.ffn ?? base.nFf,
        nCtx: f.ctx ?? base.nCtx,
      };
      await writeSyntheticModel(f.out, { shape, seed: f.seed, layout: f.layout, name: `synthetic-${f.shape}` });
      console.log(`wrote ${f.out}`);
    });
}
