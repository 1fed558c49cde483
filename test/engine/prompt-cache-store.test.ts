// The prompt cache across restarts: saved sessions read back into a new cache answer exactly as the
// originals would, reusing their prefix; files from another model, engine or shape, torn or corrupted
// ones are refused (and deleted) without touching the engine's state; unchanged sessions are not rewritten.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitnetModel, modelStamp, PromptCache, PromptCacheStore } from '../../daemon/engine/index.js';
import { syntheticModel } from '../helpers/models.js';
import { referenceModelPath } from '../helpers/reference.js';

const modelPromise = BitnetModel.load(referenceModelPath(), { threads: 1 });
const STAMP = modelStamp(referenceModelPath());
const system = (topic: string) => `You are the assistant of a smart home. ${topic} `.repeat(8);
const dir = () => mkdtempSync(join(tmpdir(), 'bitnetd-pcs-'));

async function ask(cache: PromptCache, model: BitnetModel, sys: string, question: string) {
  const prompt = model.promptTokens({ messages: [{ role: 'user', content: question }], system: sys });
  const session = cache.take(prompt);
  const r = await session.generate({ tokens: prompt }, { maxTokens: 6, temperature: 0 });
  cache.trim();
  return { text: r.text, ...r.stats, session };
}

const newCache = (model: BitnetModel, slots = 3) => new PromptCache(model, { slots, contextSize: 512, maxBytes: 64 << 20 });

test('saved sessions come back in a new cache, most recent first, and answer as the originals do', async (t) => {
  const model = await modelPromise;
  const before = newCache(model);
  await ask(before, model, system('Lights: kitchen.'), 'Kitchen light on');
  await ask(before, model, system('Heating: bedroom.'), 'Warmer please');
  const held = before.recent().map((s) => [...s.cachedTokens]);
  const d = dir();
  const store = new PromptCacheStore(d, STAMP);
  const saved = await store.save(before, 10_000);
  t.like(saved, { saved: 2, written: 2, skipped: 0 });
  t.is(saved.tokens, held[0]!.length + held[1]!.length);
  t.deepEqual(readdirSync(d).sort(), ['prompt-0.kv', 'prompt-1.kv']);

  const after = newCache(model);
  const loaded = await new PromptCacheStore(d, STAMP).load(after);
  t.deepEqual(loaded, { loaded: 2, tokens: saved.tokens, refused: [], leftovers: 0 });
  t.deepEqual(after.recent().map((s) => [...s.cachedTokens]), held, 'the same tokens, in the same recency order');
  t.is(after.bytes(), before.bytes());

  // The next turn of each conversation, on the original cache and on the read-back one.
  for (const [sys, q] of [[system('Lights: kitchen.'), 'And the hall?'], [system('Heating: bedroom.'), 'Cooler please']] as const) {
    const original = await ask(before, model, sys, q);
    const restored = await ask(after, model, sys, q);
    t.true(restored.cachedTokens > 50, `${restored.cachedTokens} prompt tokens reused after the restart`);
    t.is(restored.cachedTokens, original.cachedTokens);
    t.is(restored.text, original.text);
  }
});

test('a session unchanged since it was read is not written again; one that changed is; the rest are removed', async (t) => {
  const model = await modelPromise;
  const d = dir();
  const first = newCache(model);
  await ask(first, model, system('Garden.'), 'Water the lawn');
  await ask(first, model, system('Garage.'), 'Close the door');
  await new PromptCacheStore(d, STAMP).save(first, 10_000);

  const second = newCache(model);
  const store = new PromptCacheStore(d, STAMP);
  await store.load(second);
  const unchanged = await store.save(second, 10_000);
  t.like(unchanged, { saved: 2, written: 0 });
  await ask(second, model, system('Garage.'), 'Open it again');
  const changed = await store.save(second, 10_000);
  t.like(changed, { saved: 2, written: 1 });
  second.recent()[1]!.reset();
  const fewer = await store.save(second, 10_000);
  t.like(fewer, { saved: 1, written: 0 });
  t.is(readdirSync(d).length, 1, 'the emptied session\'s file is gone');

  await ask(second, model, system('Garden.'), 'Stop watering');
  const none = await store.save(second, -1);
  t.like(none, { saved: 0, written: 0, skipped: 2 }, 'no time left: nothing is written');
  t.is(readdirSync(d).length, 1, 'and the last file of a session is kept: it is still valid');
});

test('files of another model file or engine, another shape, torn or corrupted are refused, deleted, and leave an empty session', async (t) => {
  const model = await modelPromise;
  const d = dir();
  const cache = newCache(model, 1);
  await ask(cache, model, system('Lights.'), 'Lights on');
  await new PromptCacheStore(d, STAMP).save(cache, 10_000);
  const good = readFileSync(join(d, 'prompt-0.kv'));

  const refusedWith = async (bytes: Buffer, stamp = STAMP, m = model) => {
    writeFileSync(join(d, 'prompt-0.kv'), bytes);
    const c = new PromptCache(m, { slots: 1, contextSize: 512, maxBytes: 64 << 20 });
    const r = await new PromptCacheStore(d, stamp).load(c);
    t.is(r.loaded, 0);
    t.deepEqual(readdirSync(d), [], 'the refused file is deleted');
    t.is(c.tokens(), 0);
    t.is(c.bytes(), 0, 'no keys and values half read');
    const again = await ask(c, m, system('Lights.'), 'Lights on');
    t.is(again.cachedTokens, 0, 'the session works, from scratch');
    return r.refused[0]!.reason;
  };
  t.regex(await refusedWith(good, 'another-model.gguf:1:2:bitnetd 0.0.1'), /another model file or engine/);
  t.regex(await refusedWith(good.subarray(0, good.length - 100)), /torn write/);
  const flipped = Buffer.from(good);
  flipped[flipped.length - 5000]! ^= 0x40;
  t.regex(await refusedWith(flipped), /checksum/);
  t.regex(await refusedWith(Buffer.from('not a cache at all, just some text of some length')), /bad magic/);
  t.regex(await refusedWith(Buffer.alloc(8)), /too short/);

  const other = await BitnetModel.load(await syntheticModel('micro', 'official'), { threads: 1 });
  t.regex(await refusedWith(good, STAMP, other), /another shape/);
  writeFileSync(join(d, 'prompt-0.kv'), good);
  const c = newCache(model, 1);
  t.is((await new PromptCacheStore(d, STAMP).load(c)).loaded, 1, 'the intact file is still read');
});

test('only the newest files that fit the slots are read; the older ones are removed', async (t) => {
  const model = await modelPromise;
  const d = dir();
  const big = newCache(model, 3);
  for (const topic of ['Attic.', 'Basement.', 'Cellar.']) await ask(big, model, system(topic), 'Status?');
  const newest = [...big.recent()[0]!.cachedTokens];
  await new PromptCacheStore(d, STAMP).save(big, 10_000);
  const small = newCache(model, 1);
  const r = await new PromptCacheStore(d, STAMP).load(small);
  t.is(r.loaded, 1);
  t.deepEqual([...small.recent()[0]!.cachedTokens], newest);
  t.is(readdirSync(d).length, 1);
});

test('a save that fails on a full disk leaves no half-written file behind', async (t) => {
  const model = await modelPromise;
  const cache = newCache(model);
  await ask(cache, model, system('Lights: porch.'), 'Porch light on');
  const d = dir();
  symlinkSync('/dev/full', join(d, 'prompt-0.kv.tmp')); // its writes fail with ENOSPC, as on a full disk
  await t.throwsAsync(new PromptCacheStore(d, STAMP).save(cache, 10_000), { message: /No space left on device|ENOSPC/ });
  t.deepEqual(readdirSync(d), [], 'the temporary file is gone');
});
