// Request parsing and validation: one schema for every transport, errors a person can act on.
import test from 'ava';
import { parseMessage, parsePowerPayload } from '../../daemon/requests/messages.js';

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
  t.regex(message('{"prompt":"a","reply_to":"bitnetd/#"}'), /reply_to must be a topic without "\+", "#"/);
  t.regex(message(`{"prompt":"${'x'.repeat(300_000)}"}`), /prompt must NOT have more than 262144 characters/);
  t.regex(message('{"prompt":"a","max_tokens":0}'), /max_tokens must be >= 1/);
  t.regex(message(`{"id":"${'i'.repeat(200)}","prompt":"a"}`), /id must NOT have more than 128 characters/);
});

test('power commands and status requests', (t) => {
  t.deepEqual(parseMessage('{"power": {"budget_watts": 4.5}}'), { kind: 'power', limits: { budget_watts: 4.5 } });
  t.deepEqual(parseMessage('{"id": "p", "power": {"budget_watts": null, "max_temp_c": 70}}'), {
    kind: 'power',
    id: 'p',
    limits: { budget_watts: null, max_temp_c: 70 },
  });
  t.deepEqual(parseMessage('{"status": {}, "id": "s"}'), { kind: 'status', id: 's' });
  t.like(parseMessage('{"power": {"budget_watts": "lots"}}'), { kind: 'invalid', message: 'power.budget_watts must be number' });
  t.like(parseMessage('{"power": {}}'), { kind: 'invalid' });
  t.like(parseMessage('{"status": {"verbose": true}}'), { kind: 'invalid', message: 'unknown field "status.verbose"' });
});

test('the MQTT power command payload: a number, "off", or a JSON power command', (t) => {
  t.deepEqual(parsePowerPayload('4.5'), { budget_watts: 4.5 });
  t.deepEqual(parsePowerPayload(' 12 \n'), { budget_watts: 12 });
  t.deepEqual(parsePowerPayload('OFF'), { budget_watts: null });
  t.deepEqual(parsePowerPayload('{"max_temp_c": 65}'), { max_temp_c: 65 });
  t.regex(parsePowerPayload('-2') as string, /budget_watts must be >= 0/);
  t.regex(parsePowerPayload('lots') as string, /a budget in watts/);
  t.regex(parsePowerPayload('{"max_temp_c": 500}') as string, /max_temp_c must be <= 150/);
});

test('a request nested 100,000 deep is refused without exhausting the stack', (t) => {
  const deep = `{"prompt":"hi","format":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
  const r = parseMessage(deep);
  t.is(r.kind, 'invalid');
  t.regex((r as { message: string }).message, /format nests deeper than 32 levels/);
});
