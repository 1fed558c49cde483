// bitnetd info MODEL: metadata, hyper-parameters, tensors.
import { Command } from 'commander';
import { BitnetModel, loadedAddon } from '../engine/index.js';

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
// f32 values print as the float they are (1e-5, not 0.000009999999747378752).
const f32 = (x: number): number => Number(x.toPrecision(7));

export function infoCommand(): Command {
  return new Command('info')
    .description('show a model file\'s metadata, shapes, types and sizes')
    .argument('[model]', 'model file (GGUF)')
    .option('-m, --model <file>', 'model file, as the other commands take it')
    .option('--json', 'print one JSON object')
    .action(async (file: string | undefined, flags: { json?: boolean; model?: string }, cmd: Command) => {
      if (file !== undefined && flags.model !== undefined && file !== flags.model) cmd.error(`error: two model files given: ${file} and ${flags.model}`);
      const path = file ?? flags.model;
      if (path === undefined) cmd.error('error: which model? bitnetd info MODEL, or bitnetd info -m MODEL');
      const model = await BitnetModel.load(path);
      const info = model.info;
      const tok = model.tokenizer;
      if (flags.json) {
        console.log(JSON.stringify({ ...info, kernel: model.kernel, engine: loadedAddon(), node: { version: process.version, path: process.execPath }, tokenizer: { preTokenizer: tok.preTokenizer, bos: tok.bosId, eos: tok.eosId, eot: tok.eotId ?? null } }));
        return;
      }
      const h = info.hparams;
      const bytesByType = new Map<string, { count: number; bytes: number }>();
      for (const t of info.tensors) {
        const e = bytesByType.get(t.type) ?? { count: 0, bytes: 0 };
        bytesByType.set(t.type, { count: e.count + 1, bytes: e.bytes + t.bytes });
      }
      const lines = [
        `file          ${info.path} (${mib(info.fileSize)}, GGUF v${info.ggufVersion})`,
        `architecture  ${h.arch}`,
        `layers        ${h.nLayer}`,
        `hidden        ${h.nEmbd}`,
        `ffn           ${h.nFf}`,
        `heads         ${h.nHead} query, ${h.nHeadKv} key/value, head size ${h.headDim}, rope dims ${h.nRot}`,
        `context       ${h.nCtxTrain}`,
        `vocabulary    ${h.nVocab} (pre-tokenizer ${tok.preTokenizer}, bos ${tok.bosId}, eos ${tok.eosId}, eot ${tok.eotId ?? 'none'})`,
        `rope base     ${h.ropeBase}`,
        `rms eps       ${f32(h.normEps)}`,
        `output        ${h.tiedOutput ? 'tied to token_embd' : 'output.weight'}`,
        `kernel        ${model.kernel}`,
        `engine        ${loadedAddon().source} ${loadedAddon().path}`,
        `node          ${process.version} ${process.execPath}`,
        `tensors       ${info.tensors.length}: ` +
          [...bytesByType].map(([type, e]) => `${e.count} ${type} (${mib(e.bytes)})`).join(', '),
        '',
        'metadata',
        ...info.metadata.map((m) =>
          m.type === 'array'
            ? `  ${m.key} = [${m.elementType} x ${m.length}]`
            : `  ${m.key} = ${
                typeof m.value === 'string' && m.value.length > 80
                  ? JSON.stringify(m.value.slice(0, 77)) + '...'
                  : JSON.stringify(m.type === 'f32' && typeof m.value === 'number' ? f32(m.value) : m.value)
              }`,
        ),
        '',
        'tensors',
        ...info.tensors.map((t) => `  ${t.name.padEnd(28)} ${t.type.padEnd(5)} {${t.shape.join(', ')}}  ${t.bytes} bytes @ ${t.offset}`),
      ];
      console.log(lines.join('\n'));
    });
}
