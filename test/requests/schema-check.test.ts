// What constrained decoding can hold: the keywords it enforces in the shapes it reads, bounded work, and
// the schemas Home Assistant sends accepted as they are.
import test from 'ava';
import { LIMITS } from '../../daemon/requests/limits.js';
import { schemaProblem } from '../../daemon/requests/schema-check.js';

// Home Assistant's Assist tools and an AI Task structure, as its integrations send them.
const HA_SCHEMAS = [
  { type: 'object', properties: { name: { type: 'string' }, area: { type: 'string' }, domain: { type: 'array', items: { type: 'string', enum: ['light', 'switch', 'fan'] } } }, required: [] },
  { type: 'object', properties: { brightness: { type: 'integer', minimum: 0, maximum: 100, description: 'percent' }, color: { type: 'string' } }, required: ['brightness'] },
  { type: 'object', properties: {} },
  { type: 'object', properties: { title: { type: 'string', description: 'A title' }, items: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 }, done: { anyOf: [{ type: 'boolean' }, { type: 'null' }] } }, required: ['title', 'items'], additionalProperties: false },
  { type: 'string', enum: [] },
];

test('the schemas Home Assistant sends are accepted', (t) => {
  for (const schema of HA_SCHEMAS) t.is(schemaProblem(schema, 'format'), undefined, JSON.stringify(schema));
});

test('a keyword that changes which answers match but is not enforced is refused by name, where it is', (t) => {
  t.regex(schemaProblem({ type: 'object', properties: { a: { allOf: [{ type: 'string' }] } } }, 'format')!, /^format\.properties\.a\.allOf: "allOf" is not supported/);
  t.regex(schemaProblem({ $ref: '#/$defs/x', $defs: { x: {} } }, 'tools.0.function.parameters')!, /^tools\.0\.function\.parameters\.\$ref: "\$ref" is not supported/);
  t.regex(schemaProblem({ type: 'array', prefixItems: [{ type: 'string' }] }, 'format')!, /"prefixItems" is not supported/);
});

test('keywords of the wrong shape are named', (t) => {
  const cases: [unknown, RegExp][] = [
    ['json', /format must be a JSON schema/],
    [{ type: 'text' }, /format\.type must be one of object, array/],
    [{ type: 'object', properties: { a: 3 } }, /format\.properties must be an object of schemas/],
    [{ type: 'object', required: 'a' }, /format\.required must be a list of property names/],
    [{ type: 'object', properties: { a: {} }, required: ['b'] }, /required names "b", which properties does not allow/],
    [{ type: 'array', items: [{}] }, /format\.items must be a schema/],
    [{ type: 'array', minItems: -1 }, /format\.minItems must be a whole number/],
    [{ type: 'array', minItems: 3, maxItems: 2 }, /minItems is more than maxItems/],
    [{ anyOf: [] }, /format\.anyOf must be a non-empty list of schemas/],
    [{ enum: 'a' }, /format\.enum must be a list/],
    [{ type: 'string', nullable: 'yes' }, /nullable must be true or false/],
    [{ type: 'number', minimum: '5' }, /format\.minimum must be a number/],
    [{ type: 'number', exclusiveMaximum: 'no' }, /exclusiveMaximum must be a number \(or, as in draft 4, true or false\)/],
    [{ type: 'integer', minimum: 0.2, maximum: 0.8 }, /minimum and maximum leave no integer between them/],
    [{ type: 'number', minimum: 3, exclusiveMaximum: 3 }, /leave no number between them/],
  ];
  for (const [schema, expect] of cases) t.regex(schemaProblem(schema, 'format') ?? 'accepted', expect, JSON.stringify(schema));
});

test('work is bounded: alternatives, enum members, and the text that completes a cut-off answer', (t) => {
  const alts = (n: number) => ({ anyOf: Array.from({ length: n }, (_, i) => ({ const: i })) });
  t.is(schemaProblem(alts(LIMITS.schemaAlternatives), 'format'), undefined);
  t.regex(schemaProblem(alts(LIMITS.schemaAlternatives + 1), 'format')!, new RegExp(`more than ${LIMITS.schemaAlternatives} alternatives`));
  const nested = { anyOf: [alts(200), alts(200)] };
  t.regex(schemaProblem(nested, 'format')!, /alternatives/, 'nested alternatives are counted together');
  t.regex(schemaProblem({ enum: Array.from({ length: LIMITS.enumValues + 1 }, (_, i) => i) }, 'format')!, /enum has 257 values/);
  t.regex(schemaProblem({ type: 'array', minItems: 1e9 }, 'format')!, new RegExp(`more than ${LIMITS.textLength} characters`));
  const square = { type: 'array', minItems: 1000, items: { type: 'array', minItems: 1000, items: { type: 'integer' } } };
  t.regex(schemaProblem(square, 'format')!, /completing a cut-off answer/, 'a million values by nesting');
  t.is(schemaProblem({ type: 'array', minItems: 1000, items: { type: 'integer' } }, 'format'), undefined, 'a thousand numbers is fine');
});
