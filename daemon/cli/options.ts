// Argument parsers and option groups shared by the subcommands.
import { InvalidArgumentError, type Command } from 'commander';
import type { GenerateOptions } from '../engine/index.js';

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

export function floatArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return n;
  };
}

export function headArg(value: string): 'f16' | 'q8' {
  if (value !== 'f16' && value !== 'q8') throw new InvalidArgumentError('expected f16 or q8');
  return value;
}

export function addModelOptions(cmd: Command, defaultHead: 'f16' | 'q8' = 'q8'): Command {
  return cmd
    .requiredOption('-m, --model <file>', 'model file (GGUF, I2_S)')
    .option('-t, --threads <n>', 'compute threads', intArg(1, 256), 1)
    .option('--head <mode>', 'output head: q8 (int8, built at load, half the bytes) or f16 (exact)', headArg, defaultHead);
}

export function addSamplingOptions(cmd: Command): Command {
  return cmd
    .option('-n, --max-tokens <n>', 'most tokens to generate', intArg(0), 256)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', floatArg(0, 100))
    .option('--top-k <k>', 'keep the k most likely tokens; 0 is off', intArg(0))
    .option('--top-p <p>', 'nucleus sampling mass; 1 is off', floatArg(0.000001, 1))
    .option('--min-p <p>', 'drop tokens below p times the top probability; 0 is off', floatArg(0, 0.999999))
    .option('--repeat-penalty <x>', 'penalty for recently seen tokens; 1 is off', floatArg(0.000001, 10))
    .option('--seed <n>', 'random seed (same seed, same output)', intArg(0))
    .option('--stop <text...>', 'stop when the output contains this text')
    .option('--ignore-eos', 'keep generating past end-of-text and end-of-turn tokens')
    .option('-c, --ctx-size <n>', 'context size in tokens (default: the model\'s)', intArg(2));
}

export interface SamplingFlags {
  maxTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  seed?: number;
  stop?: string[];
  ignoreEos?: boolean;
}

export function generateOptions(f: SamplingFlags): GenerateOptions {
  const o: GenerateOptions = { maxTokens: f.maxTokens };
  if (f.temperature !== undefined) o.temperature = f.temperature;
  if (f.topK !== undefined) o.topK = f.topK;
  if (f.topP !== undefined) o.topP = f.topP;
  if (f.minP !== undefined) o.minP = f.minP;
  if (f.repeatPenalty !== undefined) o.repeatPenalty = f.repeatPenalty;
  if (f.seed !== undefined) o.seed = f.seed;
  if (f.stop !== undefined) o.stop = f.stop;
  if (f.ignoreEos) o.ignoreEos = true;
  return o;
}
