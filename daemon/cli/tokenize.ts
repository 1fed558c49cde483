// bitnetd tokenize -m MODEL TEXT: token ids as a JSON array, BOS first.
import { Command } from 'commander';
import { BitnetModel } from '../engine/index.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('print the token ids of a text as a JSON array (BOS first, special tokens not parsed)')
    .requiredOption('-m, --model <file>', 'model file (GGUF)')
    .option('--no-bos', 'leave out the beginning-of-text token')
    .argument('<text>', 'the text')
    .action(async (text: string, flags: { model: string; bos: boolean }) => {
      const model = await BitnetModel.load(flags.model);
      console.log(JSON.stringify(model.tokenizer.encode(text, flags.bos)));
    });
}
