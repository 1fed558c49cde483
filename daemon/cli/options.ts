// Argument parsers and option groups shared by the subcommands.
import { InvalidArgumentError, type Command } from 'commander';
import type { GenerateOptions } from '../engine/index.js';
import type { GenerateRequest } from '../protocol.js';
import { checkRequest } from '../requests/check.js';
import { engineOptions } from '../requests/engine-options.js';

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** Any number: a sampling flag's range is the request check's (requests/limits.ts), as on every transport. */
function numberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
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
    .option('-n, --max-tokens <n>', 'most tokens to generate', numberArg, 256)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', numberArg)
    .option('--top-k <k>', 'keep the k most likely tokens; 0 is off', numberArg)
    .option('--top-p <p>', 'nucleus sampling mass; 1 is off', numberArg)
    .option('--min-p <p>', 'drop tokens below p times the top probability; 0 is off', numberArg)
    .option('--repeat-penalty <x>', 'penalty for recently seen tokens; 1 is off', numberArg)
    .option('--seed <n>', 'random seed (same seed, same output)', numberArg)
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

/** A prompt or messages with the sampling flags, checked as a request over any transport is (the same
 * limits, the same messages); throws what the check says. */
export function checkedGenerateOptions(input: Pick<GenerateRequest, 'prompt' | 'messages' | 'system'>, f: SamplingFlags): GenerateOptions {
  const candidate: GenerateRequest = {
    ...input,
    max_tokens: f.maxTokens,
    ...(f.temperature !== undefined ? { temperature: f.temperature } : {}),
    ...(f.topK !== undefined ? { top_k: f.topK } : {}),
    ...(f.topP !== undefined ? { top_p: f.topP } : {}),
    ...(f.minP !== undefined ? { min_p: f.minP } : {}),
    ...(f.repeatPenalty !== undefined ? { repeat_penalty: f.repeatPenalty } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.stop !== undefined ? { stop: f.stop } : {}),
  };
  const checked = checkRequest(candidate, cliFlagName);
  if (!checked.ok) throw new Error(checked.message);
  return { ...engineOptions(checked.request, f.maxTokens), ...(f.ignoreEos ? { ignoreEos: true } : {}) };
}

/** A request field as the flag that set it: max_tokens is --max-tokens (chat's messages are typed lines). */
function cliFlagName(path: string): string {
  const [first, ...rest] = path.split('.');
  if (first === 'messages') return path;
  return ['--' + first!.replaceAll('_', '-'), ...rest].join('.');
}
