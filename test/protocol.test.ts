// Request parsing and validation: one schema for every transport, errors a person can act on.
import test from 'ava';
import { parseMessage } from '../daemon/protocol.js';

test('a full request is accepted as it is', (t) => {
  const request = {
    id: 'kitchen-1',
    messages: [{ role: 'user', content: 'Is the oven on?' }],
    system: 'You are a home assistant.',
    max_tokens: 64,
    temperature: 0,
    top_k: 40,
    top_p: 0.9,
    min_p: 0.05,
    repeat_penalty: 1.1,
    seed: 42,
    stop: ['\n\n'],
    stream: true,
    conversation: 'kitchen',
    deadline_ms: 30_000,
    reply_to: 'home/answers',
  };
  t.deepEqual(parseMessage(JSON.stringify(request)), { kind: 'generate', request });
});

test('cancel messages', (t) => {
  t.deepEqual(parseMessage('{"cancel":"a"}'), { kind: 'cancel', id: 'a' });
  const bad = parseMessage('{"cancel":"a","why":"bored"}');
  t.is(bad.kind, 'invalid');
});

test('every problem of a request is named, with the id when it can be read', (t) => {
  const r = parseMessage('{"id":"x","prompt":"hi","temperature":-1,"top_k":1.5,"stream":"yes","colour":"red"}');
  t.is(r.kind, 'invalid');
  if (r.kind !== 'invalid') return;
  t.is(r.id, 'x');
  t.regex(r.message, /temperature must be >= 0/);
  t.regex(r.message, /top_k must be integer/);
  t.regex(r.message, /stream must be boolean/);
  t.regex(r.message, /unknown field "colour"/);
});

test('wrong shapes: not JSON, not an object, nested mistakes, prompt and messages', (t) => {
  const message = (raw: string) => {
    const r = parseMessage(raw);
    return r.kind === 'invalid' ? r.message : `accepted: ${raw}`;
  };
  t.regex(message('{"prompt": "hi"'), /^not JSON/);
  t.regex(message('"hi"'), /must be a JSON object/);
  t.regex(message('null'), /must be a JSON object/);
  t.regex(message('{"messages":[{"role":"robot","content":"x"}]}'), /messages\.0\.role must be one of system, user, assistant/);
  t.regex(message('{"messages":[{"role":"user"}]}'), /messages\.0 must have required property 'content'/);
  t.regex(message('{"messages":[]}'), /messages must NOT have fewer than 1 items/);
  t.regex(message('{"system":"only a system"}'), /exactly one of "prompt" and "messages"/);
  t.regex(message('{"prompt":"a","messages":[{"role":"user","content":"b"}]}'), /exactly one of/);
  t.regex(message('{"prompt":"a","reply_to":"bitnetd/#"}'), /reply_to must match pattern/);
  t.regex(message(`{"prompt":"${'x'.repeat(300_000)}"}`), /prompt must NOT have more than 262144 characters/);
  t.regex(message('{"prompt":"a","max_tokens":0}'), /max_tokens must be >= 1/);
  t.regex(message(`{"id":"${'i'.repeat(200)}","prompt":"a"}`), /id must NOT have more than 128 characters/);
});
