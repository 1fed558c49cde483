// Sessions: generation, sampling, seeds, stops, cancellation, context limits, cache reuse, concurrency.
import test from 'ava';
import { BitnetModel, PromptTooLongError } from '../../daemon/engine/index.js';
import { referenceModelPath } from '../helpers/reference.js';

const modelPromise = BitnetModel.load(referenceModelPath(), { threads: 2 });
const PROMPT = { prompt: 'The capital of France is', raw: true } as const;

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

test('greedy generation follows the argmax of the logits, token by token', async (t) => {
  const model = await modelPromise;
  const result = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 6, ignoreEos: true });
  t.is(result.tokens.length, 6);
  t.is(result.stats.stopReason, 'length');
  const prompt = model.promptTokens(PROMPT);
  const rows = await model.createSession({ contextSize: 64 }).logitsFor([...prompt, ...result.tokens.slice(0, -1)]);
  result.tokens.forEach((id, i) => t.is(id, argmax(rows[prompt.length - 1 + i]!), `token ${i}`));
  t.is(result.text, model.tokenizer.decode(result.tokens));
});

test('same seed, same output; another seed, another output', async (t) => {
  const model = await modelPromise;
  const run = (seed: number) => model.createSession({ contextSize: 64 }).generate(PROMPT, { seed, temperature: 1.5, topK: 0, topP: 1, minP: 0, maxTokens: 12, ignoreEos: true });
  const a = await run(42);
  const b = await run(42);
  const c = await run(43);
  t.deepEqual(a.tokens, b.tokens);
  t.notDeepEqual(a.tokens, c.tokens);
});

test('top-k 1 is greedy whatever the temperature and seed', async (t) => {
  const model = await modelPromise;
  const greedy = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 8, ignoreEos: true });
  const topk1 = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 5, topK: 1, seed: 9, maxTokens: 8, ignoreEos: true, repeatPenalty: 1 });
  t.deepEqual(topk1.tokens, greedy.tokens);
});

test('a tiny top-p or a large min-p also keep only the most likely token', async (t) => {
  const model = await modelPromise;
  const greedy = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 8, ignoreEos: true });
  const common = { temperature: 1, topK: 0, seed: 5, maxTokens: 8, ignoreEos: true, repeatPenalty: 1 };
  const topP = await model.createSession({ contextSize: 64 }).generate(PROMPT, { ...common, topP: 1e-6, minP: 0 });
  const minP = await model.createSession({ contextSize: 64 }).generate(PROMPT, { ...common, topP: 1, minP: 0.999 });
  t.deepEqual(topP.tokens, greedy.tokens);
  t.deepEqual(minP.tokens, greedy.tokens);
});

test('a strong repetition penalty avoids repeating tokens under greedy decoding', async (t) => {
  const model = await modelPromise;
  const session = model.createSession({ contextSize: 128 });
  const r = await session.generate(PROMPT, { temperature: 0, maxTokens: 40, ignoreEos: true, repeatPenalty: 10, repeatLastN: 64 });
  const prompt = new Set(model.promptTokens(PROMPT));
  const seen = new Set<number>();
  for (const id of r.tokens) {
    t.false(seen.has(id) || prompt.has(id), `token ${id} repeated`);
    seen.add(id);
  }
});

test('invalid sampling options are refused with a clear error', async (t) => {
  const session = (await modelPromise).createSession({ contextSize: 64 });
  await t.throwsAsync(session.generate(PROMPT, { temperature: -1 }), { message: /temperature must be from 0 to 100/ });
  await t.throwsAsync(session.generate(PROMPT, { topP: 0 }), { message: /top_p must be in \(0, 1\]/ });
  await t.throwsAsync(session.generate(PROMPT, { topK: 1.5 }), { message: /top_k must be an integer/ });
  const ok = await session.generate(PROMPT, { maxTokens: 1, temperature: 0 });
  t.is(ok.tokens.length, 1, 'the session still works');
});

test('a stop string ends the answer and is not part of it', async (t) => {
  const model = await modelPromise;
  const free = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 12, ignoreEos: true });
  const stop = free.text.slice(free.text.length >> 1, (free.text.length >> 1) + 3);
  t.true(stop.length === 3);
  const stopped = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 12, ignoreEos: true, stop: [stop] });
  t.is(stopped.stats.stopReason, 'stop');
  t.is(stopped.text, free.text.slice(0, free.text.indexOf(stop)));
});

test('an abort signal stops within one token', async (t) => {
  const model = await modelPromise;
  const abort = new AbortController();
  let seen = 0;
  const r = await model.createSession({ contextSize: 256 }).generate(PROMPT, { maxTokens: 200, ignoreEos: true, signal: abort.signal }, () => {
    if (++seen === 3) abort.abort();
  });
  t.is(r.stats.stopReason, 'cancelled');
  t.is(r.tokens.length, 3);
});

test('an already aborted signal generates nothing', async (t) => {
  const model = await modelPromise;
  const r = await model.createSession({ contextSize: 64 }).generate(PROMPT, { signal: AbortSignal.abort() });
  t.is(r.stats.stopReason, 'cancelled');
  t.is(r.tokens.length, 0);
});

test('the context size is clamped to the model and a full context stops generation', async (t) => {
  const model = await modelPromise;
  t.is(model.createSession({ contextSize: 1_000_000 }).contextSize, model.contextLength);
  const session = model.createSession({ contextSize: 16 });
  const prompt = model.promptTokens(PROMPT);
  const r = await session.generate(PROMPT, { temperature: 0, ignoreEos: true });
  t.is(r.stats.stopReason, 'context');
  t.is(prompt.length + r.tokens.length, 16 + 1, 'the last sampled token needs no cache slot');
});

test('an oversized prompt is refused, and the session stays usable', async (t) => {
  const model = await modelPromise;
  const session = model.createSession({ contextSize: 32 });
  const err = await t.throwsAsync(session.generate({ prompt: 'word '.repeat(100), raw: true }));
  t.true(err instanceof PromptTooLongError);
  t.regex(err!.message, /the prompt is \d+ tokens but the context holds 32/);
  const ok = await session.generate(PROMPT, { temperature: 0, maxTokens: 2 });
  t.is(ok.tokens.length, 2);
});

test('a follow-up prompt reuses the cached prefix and gives the same answer as a fresh session', async (t) => {
  const model = await modelPromise;
  const session = model.createSession({ contextSize: 256 });
  const first = await session.generate({ messages: [{ role: 'user', content: 'Hello' }] }, { temperature: 0, maxTokens: 5, ignoreEos: true });
  const history = [
    { role: 'user' as const, content: 'Hello' },
    { role: 'assistant' as const, content: first.text },
    { role: 'user' as const, content: 'And then?' },
  ];
  const cached = await session.generate({ messages: history }, { temperature: 0, maxTokens: 5, ignoreEos: true });
  const fresh = await model.createSession({ contextSize: 256 }).generate({ messages: history }, { temperature: 0, maxTokens: 5, ignoreEos: true });
  t.true(cached.stats.cachedTokens > 5, `cached ${cached.stats.cachedTokens}`);
  t.is(fresh.stats.cachedTokens, 0);
  t.deepEqual(cached.tokens, fresh.tokens);
});

test('several sessions generate concurrently on one model, each as if alone', async (t) => {
  const model = await modelPromise;
  const prompts = ['One', 'Two two', 'Three three three'].map((p) => ({ prompt: p, raw: true }));
  const alone: { tokens: number[] }[] = [];
  for (const p of prompts) alone.push(await model.createSession({ contextSize: 64 }).generate(p, { temperature: 0, maxTokens: 6, ignoreEos: true }));
  const together = await Promise.all(prompts.map((p) => model.createSession({ contextSize: 64 }).generate(p, { temperature: 0, maxTokens: 6, ignoreEos: true })));
  together.forEach((r, i) => t.deepEqual(r.tokens, alone[i]!.tokens));
});

test('one session refuses a second generation while the first runs', async (t) => {
  const session = (await modelPromise).createSession({ contextSize: 64 });
  const first = session.generate(PROMPT, { maxTokens: 4 });
  await t.throwsAsync(session.generate(PROMPT), { message: /already generating/ });
  await first;
});

test('the stream yields text chunks and returns stats; threads change between calls', async (t) => {
  const model = await BitnetModel.load(referenceModelPath(), { threads: 1 });
  const session = model.createSession({ contextSize: 64 });
  const it = session.stream(PROMPT, { temperature: 0, maxTokens: 5, ignoreEos: true });
  let text = '';
  let step = await it.next();
  while (!step.done) {
    text += step.value.text;
    step = await it.next();
  }
  t.is(step.value.text, text);
  t.is(step.value.stats.generatedTokens, 5);
  t.true(step.value.stats.prefillTokensPerS > 0 && step.value.stats.decodeTokensPerS > 0);
  model.setThreads(2);
  t.is(model.threads, 2);
  const again = await model.createSession({ contextSize: 64 }).generate(PROMPT, { temperature: 0, maxTokens: 5, ignoreEos: true });
  t.is(again.text, text, 'two threads compute the same tokens');
});

test('changing the thread count between every step never stalls', async (t) => {
  const model = await BitnetModel.load(referenceModelPath(), { threads: 1 });
  const session = model.createSession({ contextSize: 128 });
  const outputs = new Set<string>();
  for (let i = 0; i < 24; i++) {
    model.setThreads(1 + (i % 3));
    const r = await session.generate(PROMPT, { temperature: 0, maxTokens: 2, ignoreEos: true });
    outputs.add(r.tokens.join(','));
  }
  t.is(outputs.size, 1, 'every thread count computes the same tokens');
});

test('a duty cycle rests the engine between evaluations: at 0.25 decoding takes about 4 times as long', async (t) => {
  const model = await BitnetModel.load(referenceModelPath(), { threads: 1 }); // its own: the duty cycle is per model
  const decodeMs = async () => {
    const r = await model.createSession({ contextSize: 128 }).generate(PROMPT, { temperature: 0, maxTokens: 60, ignoreEos: true });
    return r.stats.decodeMs;
  };
  await decodeMs(); // warm-up
  const full = await decodeMs();
  model.setDutyCycle(0.25);
  const rested = await decodeMs();
  model.setDutyCycle(1);
  const again = await decodeMs();
  t.log(`decode ${full.toFixed(0)} ms at duty 1, ${rested.toFixed(0)} ms at 0.25, ${again.toFixed(0)} ms at 1 again`);
  t.true(rested > 2.5 * Math.max(full, again));
  t.throws(() => model.setDutyCycle(0), { instanceOf: RangeError });
});
