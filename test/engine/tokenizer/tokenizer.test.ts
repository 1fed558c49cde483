// The tokenizer against the reference prompt ids and an independent Llama 3 tokenizer.
import test from 'ava';
import llama3Tokenizer from 'llama3-tokenizer-js';
import { BitnetModel } from '../../../daemon/engine/index.js';
import { loadReference, referenceModelPath } from '../../helpers/reference.js';
import { syntheticModel } from '../../helpers/models.js';

const modelPromise = BitnetModel.load(referenceModelPath());

const SAMPLES = [
  'Hello world!',
  'hello   world',
  '  leading spaces',
  'trailing spaces   ',
  'tabs\tand\ttabs\t\t',
  'line one\nline two\n\nline four\r\nwindows',
  '\n\n\n',
  ' \n \n ',
  '1234567890',
  '3.14159265358979',
  'the year 2024 and 1,000,000 people',
  '007 agents and 42nd street',
  "I'm sure you're right, they've said it'll work and he'd agree",
  "DON'T SHOUT, I'LL HEAR YOU'RE HERE",
  'Punctuation!!! Really??? Yes... (maybe) [ok] {sure} <tag/>',
  'email@example.com https://example.org/path?q=1&r=2#frag',
  'café naïve résumé façade',
  'Ünïcödé äöüß ÄÖÜ',
  'Ελληνικά και Русский текст',
  'العربية עברית',
  '你好，世界！这是一个测试。',
  '日本語のテキストとカタカナ',
  '한국어 문장입니다',
  'emoji 🎉🚀 and 👨‍👩‍👧‍👦 family',
  '🤖🤖🤖',
  'mixed中文and English词语',
  'def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n',
  'function f(x) { return x * 2; }\n// comment',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  'SELECT * FROM users WHERE id = 7;',
  '    indented code\n        more indent',
  'a',
  ' ',
  '',
  'x'.repeat(300),
  'ab '.repeat(50),
  'The quick brown fox jumps over the lazy dog.',
  '<|eot_id|> is not special in user text',
  '<|begin_of_text|>Hi',
  'Turn on the living room lights at 7:30 PM and set the thermostat to 21.5°C',
  '$100.00 + €50 = ¥? £',
  'Zigbee2MQTT/bitnetd/request {"prompt": "hi"}',
  'snake_case camelCase PascalCase kebab-case',
  'ÿþýü control \u0001\u0002 chars',
];

test('prompt ids equal the reference ids for every reference prompt', async (t) => {
  const model = await modelPromise;
  for (const run of loadReference().runs) t.deepEqual(model.tokenizer.encode(run.prompt), run.prompt_ids, run.prompt);
});

// llama3-tokenizer-js turns special-token text into special ids; bitnetd never does for user text.
const PLAIN = SAMPLES.filter((s) => !/<\|[a-z_]+\|>/.test(s));

test(`${PLAIN.length} strings tokenize like llama3-tokenizer-js`, async (t) => {
  const model = await modelPromise;
  t.true(PLAIN.length >= 40);
  for (const text of PLAIN) {
    const ours = model.tokenizer.encode(text, false);
    const theirs = llama3Tokenizer.encode(text, { bos: false, eos: false });
    t.deepEqual(ours, theirs, JSON.stringify(text));
  }
  for (const text of SAMPLES) t.is(model.tokenizer.decode(model.tokenizer.encode(text, false)), text, 'round trip');
});

test('special tokens are recognised in templates, never in user text', async (t) => {
  const model = await modelPromise;
  const ids = model.tokenizer.encode('<|eot_id|>', false);
  t.false(ids.includes(128009));
  t.true(ids.length > 1);
  t.is(model.tokenizer.eotId, 128009);
  t.deepEqual([...model.tokenizer.stopIds].sort(), [128001, 128009]);
});

test('the chat format of spec 6.2', async (t) => {
  const model = await modelPromise;
  const tok = model.tokenizer;
  const ids = model.promptTokens({ messages: [{ role: 'user', content: '  Hi  ' }], system: 'You are helpful.' });
  const expected = [
    128000,
    ...tok.encode('System: ', false), ...tok.encode('You are helpful.', false), 128009,
    ...tok.encode('User: ', false), ...tok.encode('Hi', false), 128009,
    ...tok.encode('Assistant: ', false),
  ];
  t.deepEqual(ids, expected);
  t.is(tok.decode(ids), 'System: You are helpful.User: HiAssistant: ');
});

test('a file without tokenizer.ggml.pre or an eot id tokenizes the same (official layout)', async (t) => {
  const official = await BitnetModel.load(await syntheticModel('micro', 'official'));
  t.is(official.meta('tokenizer.ggml.pre'), undefined);
  t.is(official.meta('tokenizer.ggml.eot_token_id'), undefined);
  t.is(official.tokenizer.preTokenizer, 'llama3');
  t.is(official.tokenizer.eotId, 128009);
  const reference = await modelPromise;
  for (const text of SAMPLES) t.deepEqual(official.tokenizer.encode(text), reference.tokenizer.encode(text));
});

test('a long word without spaces tokenizes quickly (no quadratic merging)', async (t) => {
  const model = await modelPromise;
  const text = 'ab'.repeat(10_000) + 'Q'.repeat(5_000);
  const start = performance.now();
  const ids = model.tokenizer.encode(text, false);
  const ms = performance.now() - start;
  t.is(model.tokenizer.decode(ids), text);
  t.true(ms < 2000, `${ms} ms`);
});
