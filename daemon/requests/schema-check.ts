// Whether constrained decoding (engine/constraints/json-constraint.ts) can hold an answer to a JSON
// schema, checked before a request is queued: the keywords it enforces in the shapes it reads, nothing it
// would silently ignore while the answer must match ($ref, allOf, ...), and bounds on the work a hostile
// schema could make: alternatives, enum members, and the length of the text that completes an answer
// cut off by the token budget (minItems of a billion would otherwise be written out).
import { boundsAdmit, MAX_NUMBER_CHARS, numberBounds } from '../engine/index.js';
import { LIMITS } from './limits.js';

type Schema = Record<string, unknown>;

/** Keywords that change which documents match, which constrained decoding does not enforce. */
const UNSUPPORTED = [
  '$ref', '$defs', 'definitions', 'allOf', 'not', 'if', 'then', 'else', 'patternProperties', 'propertyNames',
  'dependencies', 'dependentSchemas', 'dependentRequired', 'prefixItems', 'additionalItems', 'contains',
  'unevaluatedProperties', 'unevaluatedItems',
];
const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
const ENFORCED =
  'type, properties, required, additionalProperties, items, minItems, maxItems, enum, const, anyOf, oneOf, nullable, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum';

class SchemaProblem extends Error {}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown, min = 0) => Number.isInteger(v) && (v as number) >= min;

/** Why constrained decoding cannot take this schema (where: its place in the request), or undefined.
 * Recursive: the request check has bounded the nesting already. */
export function schemaProblem(schema: unknown, where: string): string | undefined {
  try {
    if (!isSchema(schema)) throw new SchemaProblem(`${where} must be a JSON schema (an object)`);
    const longest = completionLength(schema, where);
    if (longest > LIMITS.textLength) {
      throw new SchemaProblem(`${where}: completing a cut-off answer could take more than ${LIMITS.textLength} characters (look at its minItems)`);
    }
    return undefined;
  } catch (err) {
    if (err instanceof SchemaProblem) return err.message;
    throw err;
  }
}

/** Checks one schema node and returns, over-estimated, the longest text that could be needed to
 * complete a document of it from anywhere inside it. */
function completionLength(s: Schema, where: string): number {
  checkShape(s, where);
  const alternatives = (s['anyOf'] ?? s['oneOf']) as Schema[] | undefined;
  if (alternatives) {
    const base = { ...s, anyOf: undefined, oneOf: undefined };
    if (countAlternatives(s) > LIMITS.schemaAlternatives) {
      throw new SchemaProblem(`${where} has more than ${LIMITS.schemaAlternatives} alternatives (anyOf, oneOf)`);
    }
    const key = s['anyOf'] ? 'anyOf' : 'oneOf';
    return Math.max(...alternatives.map((m, i) => completionLength({ ...base, ...m }, `${where}.${key}.${i}`)));
  }
  const values = 'const' in s ? [s['const']] : (s['enum'] as unknown[] | undefined);
  if (values) return Math.max(0, ...values.map((v) => (JSON.stringify(v) ?? '').length));
  const types = Array.isArray(s['type']) ? (s['type'] as string[]) : s['type'] ? [s['type'] as string] : [];
  if (!types.length) return 2; // any value: closing what is open
  return Math.max(...types.map((type) => lengthOfType(s, type, where)));
}

function lengthOfType(s: Schema, type: string, where: string): number {
  if (type === 'object') {
    const props = (s['properties'] ?? {}) as Record<string, Schema>;
    let total = 2;
    for (const [key, p] of Object.entries(props)) total += JSON.stringify(key).length + 2 + completionLength(p, `${where}.properties.${key}`);
    for (const key of (s['required'] ?? []) as string[]) if (!(key in props)) total += JSON.stringify(key).length + 4;
    if (isSchema(s['additionalProperties'])) total += completionLength(s['additionalProperties'], `${where}.additionalProperties`);
    return total;
  }
  if (type === 'array') {
    const item = isSchema(s['items']) ? completionLength(s['items'], `${where}.items`) : 2;
    return 2 + Math.max(1, (s['minItems'] as number | undefined) ?? 0) * (item + 1);
  }
  if (type === 'string') return 2;
  return numberBounds(s) ? MAX_NUMBER_CHARS : 5; // a bounded number is completed to a value within its bounds
}

/** An alternative of an alternative counts: they are flattened into one list. */
function countAlternatives(s: Schema): number {
  const members = (s['anyOf'] ?? s['oneOf']) as Schema[] | undefined;
  if (!members) return 1;
  let n = 0;
  for (const m of members) {
    n += countAlternatives(m);
    if (n > LIMITS.schemaAlternatives) break;
  }
  return n;
}

/** The keywords this node holds are ones constrained decoding enforces, in the shapes it reads. */
function checkShape(s: Schema, where: string): void {
  const bad = (what: string) => {
    throw new SchemaProblem(`${where}.${what}`);
  };
  for (const key of UNSUPPORTED) {
    if (key in s) throw new SchemaProblem(`${where}.${key}: "${key}" is not supported; answers are held to ${ENFORCED}`);
  }
  const type = s['type'];
  if (type !== undefined && !(Array.isArray(type) ? type.length > 0 && type.every((t) => TYPES.includes(t as string)) : TYPES.includes(type as string))) {
    bad(`type must be one of ${TYPES.join(', ')}, or a list of them`);
  }
  if (s['properties'] !== undefined && !(isSchema(s['properties']) && Object.values(s['properties']).every(isSchema))) bad('properties must be an object of schemas');
  if (s['required'] !== undefined && !(Array.isArray(s['required']) && s['required'].every((k) => typeof k === 'string'))) bad('required must be a list of property names');
  const extra = s['additionalProperties'];
  if (extra !== undefined && typeof extra !== 'boolean' && !isSchema(extra)) bad('additionalProperties must be a boolean or a schema');
  if (extra === false || (extra === undefined && s['properties'] !== undefined)) {
    const props = (s['properties'] ?? {}) as Schema;
    const unreachable = ((s['required'] ?? []) as string[]).find((k) => !(k in props));
    if (unreachable !== undefined) bad(`required names "${unreachable}", which properties does not allow (add it to properties)`);
  }
  if (s['items'] !== undefined && !isSchema(s['items'])) bad('items must be a schema');
  for (const k of ['minItems', 'maxItems', 'maxLength']) if (s[k] !== undefined && !count(s[k])) bad(`${k} must be a whole number`);
  if (count(s['minItems']) && count(s['maxItems']) && (s['minItems'] as number) > (s['maxItems'] as number)) bad('minItems is more than maxItems');
  for (const k of ['anyOf', 'oneOf']) {
    const list = s[k];
    if (list !== undefined && !(Array.isArray(list) && list.length > 0 && list.every(isSchema))) bad(`${k} must be a non-empty list of schemas`);
  }
  const values = s['enum'];
  if (values !== undefined) {
    if (!Array.isArray(values)) bad('enum must be a list');
    if ((values as unknown[]).length > LIMITS.enumValues) bad(`enum has ${(values as unknown[]).length} values; at most ${LIMITS.enumValues} are allowed`);
  }
  if (s['nullable'] !== undefined && typeof s['nullable'] !== 'boolean') bad('nullable must be true or false');
  for (const k of ['minimum', 'maximum']) if (s[k] !== undefined && !isFiniteNumber(s[k])) bad(`${k} must be a number`);
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (s[k] !== undefined && !isFiniteNumber(s[k]) && typeof s[k] !== 'boolean') bad(`${k} must be a number (or, as in draft 4, true or false)`);
  }
  const bounds = numberBounds(s);
  if (bounds) {
    const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type']];
    const integerOnly = types.includes('integer') && !types.includes('number');
    if (!boundsAdmit(bounds, integerOnly)) bad(`minimum and maximum leave no ${integerOnly ? 'integer' : 'number'} between them`);
  }
}

const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
