// bitnetd chat -m MODEL: interactive turns; the conversation stays in the KV cache between turns.
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { BitnetModel, type ChatMessage } from '../engine/index.js';
import { addModelOptions, addSamplingOptions, checkedGenerateOptions, type SamplingFlags } from './options.js';

interface ChatFlags extends SamplingFlags {
  head: 'f16' | 'q8';
  model: string;
  threads: number;
  system?: string;
  ctxSize?: number;
}

export function chatCommand(): Command {
  return addSamplingOptions(addModelOptions(new Command('chat')))
    .description('talk with the model; /reset forgets the conversation, /exit or Ctrl-D leaves')
    .option('-s, --system <text>', 'system message')
    .action(async (flags: ChatFlags) => {
      checkedGenerateOptions({ prompt: '', ...(flags.system !== undefined ? { system: flags.system } : {}) }, flags); // bad flags fail before the model loads
      const model = await BitnetModel.load(flags.model, { threads: flags.threads, head: flags.head });
      const session = model.createSession(flags.ctxSize ? { contextSize: flags.ctxSize } : {});
      const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
      const prompt = (): void => {
        if (process.stdin.isTTY) process.stdout.write('> ');
      };
      const history: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
      let current: AbortController | undefined;
      rl.on('SIGINT', () => {
        if (current) current.abort();
        else rl.close();
      });
      prompt();
      // Iterating the lines buffers input that arrives while an answer is generated (piped stdin).
      for await (const line of rl) {
        const text = line.trim();
        if (text === '/exit' || text === '/quit') break;
        if (text === '/reset') {
          history.splice(flags.system ? 1 : 0);
          session.reset();
        } else if (text) {
          history.push({ role: 'user', content: text });
          let options;
          try {
            options = checkedGenerateOptions({ messages: history }, flags);
          } catch (err) {
            history.pop();
            process.stdout.write(`[${(err as Error).message}]\n`);
            prompt();
            continue;
          }
          current = new AbortController();
          const result = await session.generate({ messages: history }, { ...options, signal: current.signal }, (c) => process.stdout.write(c.text));
          current = undefined;
          process.stdout.write('\n');
          history.push({ role: 'assistant', content: result.text });
          if (result.stats.stopReason === 'context') process.stdout.write('[the context is full: /reset to start over]\n');
        }
        prompt();
      }
      rl.close();
    });
}
