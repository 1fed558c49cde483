// The JSON recognizer behind constrained decoding: what it lets through, how it completes a cut-off
// answer, and, over thousands of random walks through tokens it allows, that the result always parses
// and matches its schema (checked by ajv, an independent validator).
import test from 'ava';
import { Ajv } from 'ajv';
import { JsonConstraint, type JsonSchema } from '../../../daemon/engine/constraints/json-constraint.js';
import { Random } from '../../../daemon/synth/random.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function feed(c: JsonConstraint, ...tokens: string[]): boolean {
  for (const t of tokens) {
    if (!c.allows(bytes(t))) return false;
    c.accept(bytes(t));
  }
  return true;
}

const HA_TASK: JsonSchema = {
  type: 'object',
  properties: {
    room: { type: 'string', enum: ['kitchen', 'living room', 'hall'] },
    brightness: { type: 'integer' },
    on: { type: 'boolean' },
    colour: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
  },
  required: ['room', 'on'],
  additionalProperties: false,
};

test('"json" mode: an object, nothing after it, and never a half-written number or string at the end', (t) => {
  const c = new JsonConstraint('json');
  t.false(c.allows(bytes('[')), 'Ollama\'s json mode is an object');
  t.false(c.allows(bytes('hello')));
  t.true(feed(c, ' {', '"a"', ': 1', '2.5e', '3', ', "b": [true, null, "x\\u00e9"]'));
  t.false(c.complete);
  t.true(feed(c, '}'));
  t.true(c.complete);
  t.true(c.finished);
  t.false(c.allows(bytes('}')));
  t.true(c.allows(bytes('\n')), 'whitespace may follow');
});

test('a schema: only its keys, each once, its enum members, integers without a fraction, required before the end', (t) => {
  const c = new JsonConstraint(HA_TASK);
  t.true(feed(c, '{"'));
  t.false(c.allows(bytes('colour2"')), 'not a property');
  t.true(c.allows(bytes('col')));
  t.true(feed(c, 'room": "'));
  t.false(c.allows(bytes('garage')));
  t.true(feed(c, 'living', ' room"'));
  t.false(c.allows(bytes('}')), 'on is required');
  t.true(feed(c, ', "brightness": 4'));
  t.false(c.allows(bytes('.5')), 'an integer');
  t.true(feed(c, '2, "'));
  t.false(c.allows(bytes('room"')), 'each key once');
  t.true(feed(c, 'on": false, "colour": null}'));
  t.true(c.complete);
  t.deepEqual(JSON.parse('{"room": "living room", "brightness": 42, "on": false, "colour": null}'), { room: 'living room', brightness: 42, on: false, colour: null });
});

test('named properties without additionalProperties: only those keys (a model left free invents keys)', (t) => {
  const c = new JsonConstraint({ type: 'object', properties: { a: { type: 'number' } } });
  t.true(feed(c, '{"'));
  t.false(c.allows(bytes('b"')));
  t.true(feed(c, 'a":1}'));
  t.true(feed(new JsonConstraint({ type: 'object', properties: { a: {} }, additionalProperties: true }), '{"b":1}'));
  t.true(feed(new JsonConstraint({ type: 'object' }), '{"anything":[]}'));
});

test('a cut-off answer is completed into a document of the schema, at every point of it', (t) => {
  const whole = '{"room": "hall", "tags": ["a\\"b", "c"], "on": true, "brightness": -12}';
  const validate = new Ajv().compile(HA_TASK);
  for (let cut = 0; cut <= whole.length; cut++) {
    const c = new JsonConstraint(HA_TASK);
    if (cut) t.true(feed(c, whole.slice(0, cut)), `prefix ${cut}`);
    const text = whole.slice(0, cut) + c.finish();
    let value: unknown;
    t.notThrows(() => (value = JSON.parse(text)), text);
    t.true(validate(value), `${text}: ${JSON.stringify(validate.errors)}`);
  }
});

test('a character split over two tokens inside a string is fine; outside one it is not', (t) => {
  const e = bytes('é'); // two bytes
  const c = new JsonConstraint({ type: 'string' });
  t.true(c.allows(bytes('"')));
  c.accept(bytes('"'));
  t.true(c.allows(e.subarray(0, 1)));
  c.accept(e.subarray(0, 1));
  c.accept(e.subarray(1));
  t.true(feed(c, '"'));
  t.true(c.complete);
  t.false(new JsonConstraint({ type: 'number' }).allows(e.subarray(0, 1)));
});

test('a model that loops on whitespace cannot do so for long', (t) => {
  const c = new JsonConstraint('json');
  let n = 0;
  while (c.allows(bytes(' ')) && n < 1000) {
    c.accept(bytes(' '));
    n++;
  }
  t.true(n <= 16);
});

test('random walks through allowed tokens, cut off anywhere, always parse and match the schema', (t) => {
  const rng = new Random(42);
  const pieces = ['{', '}', '[', ']', '"', ',', ':', ' ', '\n', 'room', 'on', 'tags', 'brightness', 'colour', 'kitchen', 'hall', 'living',
    ' room', 'true', 'false', 'null', '0', '7', '-', '.', '5', 'e', '\\', 'n', 'u00', 'é', 'x', '"room": "', '"on": ', '"tags": [', 'ro', 'gh',
    '"brightness": ', '"level": ', '"floor": ', '1', '2', '9', '00', '-0.'];
  const bounded: JsonSchema = {
    type: 'object',
    properties: { brightness: { type: 'integer', minimum: 10, maximum: 75 }, level: { type: 'number', exclusiveMinimum: -1, exclusiveMaximum: 0.5 }, floor: { type: 'integer', minimum: 700 } },
    required: ['brightness', 'level', 'floor'],
  };
  const schemas: (JsonSchema | 'json')[] = [HA_TASK, 'json', { type: 'array', items: { type: 'number' }, minItems: 2 }, { anyOf: [{ type: 'string' }, { type: 'integer' }] }, bounded];
  const ajv = new Ajv();
  const walkLengths: number[] = [];
  for (const schema of schemas) {
    const validate = ajv.compile(schema === 'json' ? { type: 'object' } : schema);
    for (let walk = 0; walk < 300; walk++) {
      const c = new JsonConstraint(schema);
      let text = '';
      const steps = rng.below(40);
      for (let i = 0; i < steps; i++) {
        const options = pieces.filter((p) => c.allows(bytes(p)));
        if (!options.length) break;
        const p = options[rng.below(options.length)]!;
        c.accept(bytes(p));
        text += p;
        if (c.finished) break;
      }
      walkLengths.push(text.length);
      const full = text + c.finish();
      let value: unknown;
      try {
        value = JSON.parse(full);
      } catch (err) {
        t.fail(`${JSON.stringify(schema)}: ${JSON.stringify(full)} does not parse: ${(err as Error).message}`);
        return;
      }
      if (!validate(value)) {
        t.fail(`${JSON.stringify(schema)}: ${full} breaks the schema: ${JSON.stringify(validate.errors)}`);
        return;
      }
    }
  }
  // Every walk was checked, and they were not all cut off at once: the completion had real work.
  t.is(walkLengths.length, schemas.length * 300);
  t.true(walkLengths.filter((n) => n >= 10).length > 300, 'too few walks got 10 characters into a document');
});
