// The synthetic model writer: deterministic, the official key layout, other shapes load and run.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitnetModel } from '../../daemon/engine/index.js';
import { writeSyntheticModel, SHAPES } from '../../daemon/synth/synthetic-model.js';
import { syntheticModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'bitnetd-synth-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('the same seed writes the same bytes; another seed other bytes', async (t) => {
  const shape = SHAPES['micro']!;
  await writeSyntheticModel(join(dir, 'a.gguf'), { shape, seed: 3, layout: 'official' });
  await writeSyntheticModel(join(dir, 'b.gguf'), { shape, seed: 3, layout: 'official' });
  await writeSyntheticModel(join(dir, 'c.gguf'), { shape, seed: 4, layout: 'official' });
  t.is(sha(join(dir, 'a.gguf')), sha(join(dir, 'b.gguf')));
  t.not(sha(join(dir, 'a.gguf')), sha(join(dir, 'c.gguf')));
});

test('the official layout has the published file\'s 24 keys in order; extended adds pre and eot', async (t) => {
  const official = await BitnetModel.load(await syntheticModel('micro', 'official'));
  const extended = await BitnetModel.load(await syntheticModel('micro', 'extended'));
  const keys = official.info.metadata.map((m) => m.key);
  t.is(keys.length, 24);
  t.deepEqual(keys.slice(0, 3), ['general.architecture', 'general.name', 'bitnet-b1.58.vocab_size']);
  t.is(keys[13], 'general.file_type');
  t.is(keys[23], 'general.quantization_version');
  t.is(official.info.tensors.filter((x) => x.type === 'I2_S').length, 7);
  t.is(extended.meta('tokenizer.ggml.pre'), 'llama-bpe');
  t.is(extended.meta('tokenizer.ggml.eot_token_id'), 128009);
});

test('official and extended layouts with the same seed compute identical logits', async (t) => {
  const official = await BitnetModel.load(await syntheticModel('micro', 'official'));
  const extended = await BitnetModel.load(await syntheticModel('micro', 'extended'));
  const ids = official.tokenizer.encode('Is the garage door closed?');
  t.deepEqual(ids, extended.tokenizer.encode('Is the garage door closed?'));
  const a = await official.createSession({ contextSize: 64 }).logitsFor(ids);
  const b = await extended.createSession({ contextSize: 64 }).logitsFor(ids);
  a.forEach((row, i) => t.deepEqual(row, b[i]));
  const chat = await official.createSession({ contextSize: 128 }).generate({ prompt: 'Hi' }, { temperature: 0, maxTokens: 4, ignoreEos: true });
  t.is(chat.tokens.length, 4);
});

test('models of other shapes load and evaluate, batched and one by one alike', async (t) => {
  const shapes = [
    { nEmbd: 384, nLayer: 2, nHead: 6, nHeadKv: 3, nFf: 640, nCtx: 128 },  // head size 64, GQA 2
    { nEmbd: 256, nLayer: 3, nHead: 2, nHeadKv: 2, nFf: 384, nCtx: 96 },   // head size 128, no GQA
    { nEmbd: 128, nLayer: 1, nHead: 4, nHeadKv: 1, nFf: 256, nCtx: 64 },   // head size 32, MQA
  ];
  for (const shape of shapes) {
    const model = await BitnetModel.load(await syntheticModel(shape, 'official'), { threads: 2 });
    t.is(model.info.hparams.nEmbd, shape.nEmbd);
    t.is(model.info.hparams.headDim, shape.nEmbd / shape.nHead);
    t.is(model.contextLength, shape.nCtx);
    const ids = model.tokenizer.encode('Turn off the kitchen light, please.');
    const batched = await model.createSession({ contextSize: 64 }).logitsFor(ids);
    const single = await model.createSession({ contextSize: 64 }).logitsFor(ids, { oneByOne: true });
    batched.forEach((row, i) => {
      t.false(row.some((v) => !Number.isFinite(v)));
      t.deepEqual(row, single[i]);
    });
  }
});
