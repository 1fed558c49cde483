// The prompt cache: interleaved clients keep their prefixes, an empty slot or the least recently used
// one serves a new prompt, and the kept keys and values stay within their memory bound.
import test from 'ava';
import { BitnetModel } from '../../daemon/engine/index.js';
import { PromptCache } from '../../daemon/engine/index.js';
import { referenceModelPath } from '../helpers/reference.js';

const modelPromise = BitnetModel.load(referenceModelPath(), { threads: 1 });
const system = (topic: string) => `You are the assistant of a smart home. ${topic} `.repeat(12);

async function ask(cache: PromptCache, model: BitnetModel, sys: string, question: string) {
  const prompt = model.promptTokens({ messages: [{ role: 'user', content: question }], system: sys });
  const session = cache.take(prompt);
  const r = await session.generate({ tokens: prompt }, { maxTokens: 4, temperature: 0 });
  cache.trim();
  return { ...r.stats, session };
}

test('two clients with different long system prompts, interleaved, each find their own prefix again', async (t) => {
  const model = await modelPromise;
  const cache = new PromptCache(model, { slots: 3, contextSize: 1024, maxBytes: 64 << 20 });
  const a1 = await ask(cache, model, system('Lights: kitchen, hall.'), 'Turn on the kitchen light');
  const b1 = await ask(cache, model, system('Heating: living room.'), 'How warm is it?');
  t.is(a1.cachedTokens, 0);
  t.is(b1.cachedTokens, 0, 'a new prompt takes an empty slot rather than evicting');
  t.not(a1.session, b1.session);
  const a2 = await ask(cache, model, system('Lights: kitchen, hall.'), 'And the hall?');
  const b2 = await ask(cache, model, system('Heating: living room.'), 'Set it to 21 degrees');
  t.is(a2.session, a1.session);
  t.is(b2.session, b1.session);
  t.true(a2.cachedTokens > 100, `${a2.cachedTokens} of ${a2.promptTokens} prompt tokens reused`);
  t.true(b2.cachedTokens > 100, `${b2.cachedTokens} of ${b2.promptTokens} prompt tokens reused`);
  t.is(cache.tokens(), a2.promptTokens + a2.generatedTokens - 1 + b2.promptTokens + b2.generatedTokens - 1);
});

test('with every slot taken, the least recently used one serves a new prompt', async (t) => {
  const model = await modelPromise;
  const cache = new PromptCache(model, { slots: 2, contextSize: 1024, maxBytes: 64 << 20 });
  const a = await ask(cache, model, system('Garden: sprinklers.'), 'Water the lawn');
  const b = await ask(cache, model, system('Garage: door.'), 'Is the door shut?');
  await ask(cache, model, system('Garden: sprinklers.'), 'Stop watering'); // a is now the most recent
  const c = await ask(cache, model, system('Kitchen: oven.'), 'Preheat the oven');
  t.is(c.session, b.session, 'b was the least recently used');
  t.is((await ask(cache, model, system('Garden: sprinklers.'), 'Water again')).session, a.session);
});

test('past maxBytes the least recently used prefixes are dropped and their memory given back', async (t) => {
  const model = await modelPromise;
  const probe = new PromptCache(model, { slots: 1, contextSize: 1024, maxBytes: 1 << 30 });
  const one = await ask(probe, model, system('Lights: porch.'), 'Porch light on');
  const perToken = one.session.kvBytesUsed / one.session.cachedTokens.length;
  t.true(perToken > 0);
  // Room for about one and a half such prompts.
  const cache = new PromptCache(model, { slots: 3, contextSize: 1024, maxBytes: perToken * one.session.cachedTokens.length * 1.5 });
  const first = await ask(cache, model, system('Lights: porch.'), 'Porch light on');
  await ask(cache, model, system('Blinds: bedroom.'), 'Close the blinds');
  t.is(first.session.cachedTokens.length, 0, 'the older prompt was dropped');
  t.is(first.session.kvBytesUsed, 0);
  t.true(cache.bytes() <= perToken * one.session.cachedTokens.length * 1.5);
});
