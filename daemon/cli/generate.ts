// bitnetd generate -m MODEL -p TEXT: streams the answer to stdout, then its stats.
import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import { BitnetModel, type PromptInput } from '../engine/index.js';
import { toWireStats } from '../protocol.js';
import { addModelOptions, addSamplingOptions, checkedGenerateOptions, type SamplingFlags } from './options.js';

interface GenerateFlags extends SamplingFlags {
  head: 'f16' | 'q8';
  model: string;
  threads: number;
  prompt: string;
  system?: string;
  raw?: boolean;
  ctxSize?: number;
  stats: string;
}

export function generateCommand(): Command {
  return addSamplingOptions(addModelOptions(new Command('generate')))
    .description('answer one prompt, streaming the text to stdout')
    .requiredOption('-p, --prompt <text>', 'the prompt ("-": read it from standard input)')
    .option('-s, --system <text>', 'system message')
    .option('--raw', 'plain text completion: no chat format around the prompt')
    .option('--stats <format>', 'stats after the answer, on stderr: text, json or none', 'text')
    .action(async (flags: GenerateFlags) => {
      if (!['text', 'json', 'none'].includes(flags.stats)) throw new Error('--stats must be text, json or none');
      const prompt = flags.prompt === '-' ? await text(process.stdin) : flags.prompt;
      const options = checkedGenerateOptions({ prompt, ...(flags.system !== undefined ? { system: flags.system } : {}) }, flags);
      const model = await BitnetModel.load(flags.model, { threads: flags.threads, head: flags.head });
      const session = model.createSession(flags.ctxSize ? { contextSize: flags.ctxSize } : {});
      const input: PromptInput = { prompt, ...(flags.system !== undefined ? { system: flags.system } : {}), ...(flags.raw ? { raw: true } : {}) };
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      const result = await session.generate(input, { ...options, signal: abort.signal }, (chunk) => {
        process.stdout.write(chunk.text);
      });
      process.stdout.write('\n');
      const s = toWireStats(result.stats);
      if (flags.stats === 'json') process.stderr.write(JSON.stringify(s) + '\n');
      else if (flags.stats === 'text') {
        process.stderr.write(
          `\n[${s.prompt_tokens} prompt tokens at ${s.prefill_tokens_per_s} tok/s, ` +
            `${s.generated_tokens} generated at ${s.decode_tokens_per_s} tok/s, stop: ${s.stop_reason}]\n`,
        );
      }
    });
}
