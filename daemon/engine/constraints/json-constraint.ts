// Constrained decoding for JSON: a recognizer, fed the answer character by character, that says
// whether a candidate token may come next, so that sampling only ever picks tokens that keep the text
// a prefix of a JSON document matching a schema; and the shortest text that completes it, for when the
// token budget runs out. The output therefore always parses.
//
// It is a nondeterministic pushdown recognizer: a set of configurations, each a stack of frames, so that
// anyOf / oneOf / type lists and enums simply keep several alive. Schemas are a subset of JSON Schema:
// type (one or a list), properties, required, additionalProperties, items, minItems, maxItems, enum,
// const, anyOf, oneOf, nullable, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum; the
// request check refuses the keywords that are not enforced. {} is any value, "json" mode any object.

import { walkTrie, type TrieRecognizer } from './trie-walk.js';
import { TokenList } from './token-list.js';
import { incompleteTail } from './utf8.js';
import { SAFE_CONT, SAFE_CUT, type VocabIndex } from './vocab-index.js';
import { boundedNumberText, canReach, completeNumber, inBounds, MAX_NUMBER_CHARS, numberBounds, type NumberBounds } from './number-bounds.js';

export type JsonSchema = Record<string, unknown>;

const WS = new Set([' ', '\t', '\n', '\r']);
const MAX_WHITESPACE_RUN = 16; // a model looping on spaces must not use up the answer

/** A stack of frames, shared between configurations (persistent: pushes never copy). */
interface Stack {
  frame: Frame;
  below: Stack | null;
}

type Frame =
  | { k: 'value'; schema: JsonSchema } // a value starts here
  | { k: 'done' } // the document is complete
  | { k: 'object'; schema: JsonSchema; seen: readonly string[]; phase: 'open' | 'key' | 'colon' | 'next' | 'comma' }
  | { k: 'key'; schema: JsonSchema; seen: readonly string[]; text: string; escape: EscapeState }
  | { k: 'array'; schema: JsonSchema; count: number; phase: 'open' | 'next' | 'comma' }
  | { k: 'string'; schema: JsonSchema; text: string; escape: EscapeState }
  | { k: 'number'; integer: boolean; text: string; bounds: NumberBounds | null }
  | { k: 'literal'; rest: string };

type EscapeState = null | '\\' | { hex: number }; // inside an escape: after the backslash, or n of 4 hex digits

interface Config {
  stack: Stack;
  ws: number; // whitespace characters in a row
}

const push = (below: Stack | null, frame: Frame): Stack => ({ frame, below });

const alternativesOf = new WeakMap<JsonSchema, JsonSchema[]>();

/** The value kinds a schema allows, as alternative schemas of a single type each (made once per
 * schema, so that equal configurations hold the same objects and collapse). */
function alternatives(schema: JsonSchema): JsonSchema[] {
  let alts = alternativesOf.get(schema);
  if (alts) return alts;
  const any = (schema['anyOf'] ?? schema['oneOf']) as JsonSchema[] | undefined;
  const type = schema['type'];
  const types = Array.isArray(type) ? (type as string[]) : type ? [type as string] : [];
  if (schema['nullable'] === true && !types.includes('null')) types.push('null');
  if (Array.isArray(any)) alts = any.flatMap((s) => alternatives({ ...schema, anyOf: undefined, oneOf: undefined, ...s }));
  else if (types.length > 1) alts = types.map((t) => ({ ...schema, type: t, nullable: undefined }));
  else alts = [schema];
  alternativesOf.set(schema, alts);
  return alts;
}

const enumOf = (schema: JsonSchema): unknown[] | undefined =>
  'const' in schema ? [schema['const']] : Array.isArray(schema['enum']) ? (schema['enum'] as unknown[]) : undefined;

/** The frames a value of this schema may start as, given its first character. */
function startValue(schema: JsonSchema, c: string, below: Stack | null): Stack[] {
  const out: Stack[] = [];
  for (const alt of alternatives(schema)) {
    const values = enumOf(alt);
    if (values) {
      // An enum: each member's JSON text is a literal (strings included, so their escapes are exact).
      for (const v of values) {
        const text = JSON.stringify(v);
        if (text !== undefined && text.startsWith(c)) out.push(push(below, { k: 'literal', rest: text.slice(1) }));
      }
      continue;
    }
    const type = alt['type'] as string | undefined;
    const ok = (t: string) => type === undefined || type === t || (t === 'number' && type === 'integer');
    if (c === '{' && ok('object')) out.push(push(below, { k: 'object', schema: alt, seen: [], phase: 'open' }));
    else if (c === '[' && ok('array')) out.push(push(below, { k: 'array', schema: alt, count: 0, phase: 'open' }));
    else if (c === '"' && ok('string')) out.push(push(below, { k: 'string', schema: alt, text: '', escape: null }));
    else if ((c === '-' || (c >= '0' && c <= '9')) && (ok('number') || ok('integer'))) {
      const number: Frame = { k: 'number', integer: type === 'integer', text: '', bounds: numberBounds(alt) };
      const text = stepNumber(number, c);
      if (text !== null) out.push(push(below, { ...number, text }));
    } else if (c === 't' && ok('boolean')) out.push(push(below, { k: 'literal', rest: 'rue' }));
    else if (c === 'f' && ok('boolean')) out.push(push(below, { k: 'literal', rest: 'alse' }));
    else if (c === 'n' && ok('null')) out.push(push(below, { k: 'literal', rest: 'ull' }));
  }
  return out;
}

/** A finished value: whatever contains it takes the next character. */
function close(below: Stack | null): Stack {
  if (!below) return push(null, { k: 'done' });
  const f = below.frame;
  if (f.k === 'object') return push(below.below, { ...f, phase: 'next' });
  if (f.k === 'array') return push(below.below, { ...f, count: f.count + 1, phase: 'next' });
  return below; // a 'done' frame never has a value above it
}

/** An object with named properties takes only those unless additionalProperties says otherwise, as
 * llama.cpp's schema grammars do: a model left free to invent keys invents them. */
const closedObject = (schema: JsonSchema) =>
  schema['additionalProperties'] === false || (schema['additionalProperties'] === undefined && schema['properties'] !== undefined);

function propertySchema(schema: JsonSchema, key: string): JsonSchema | undefined {
  const props = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  if (key in props) return props[key];
  if (closedObject(schema)) return undefined;
  const extra = schema['additionalProperties'];
  return typeof extra === 'object' && extra !== null ? (extra as JsonSchema) : {};
}

/** Keys an object may still take: its named properties not yet seen, or null for any key. */
function allowedKeys(schema: JsonSchema, seen: readonly string[]): string[] | null {
  if (!closedObject(schema)) return null;
  return Object.keys((schema['properties'] ?? {}) as object).filter((k) => !seen.includes(k));
}

function missingRequired(schema: JsonSchema, seen: readonly string[]): string[] {
  return ((schema['required'] ?? []) as string[]).filter((k) => !seen.includes(k));
}

/** Steps a string or key body one character; null when the character cannot come here. */
function stepText(text: string, escape: EscapeState, c: string): { text: string; escape: EscapeState; closed: boolean } | null {
  if (escape === '\\') {
    if (c === 'u') return { text, escape: { hex: 0 }, closed: false };
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    return c in simple ? { text: text + simple[c], escape: null, closed: false } : null;
  }
  if (escape) {
    if (!/[0-9a-fA-F]/.test(c)) return null;
    return { text: text + '?', escape: escape.hex === 3 ? null : { hex: escape.hex + 1 }, closed: false };
  }
  if (c === '"') return { text, escape: null, closed: true };
  if (c === '\\') return { text, escape: '\\', closed: false };
  if (c < ' ') return null; // control characters must be escaped
  return { text: text + c, escape: null, closed: false };
}

function stepNumber(f: Extract<Frame, { k: 'number' }>, c: string): string | null {
  const t = f.text + c;
  // Prefixes of -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, or of the integer part alone; the
  // exponent has two digits at most, so that a number never parses to Infinity. A bounded number has
  // no exponent, and each prefix must still reach a value within the bounds.
  const ok = f.integer
    ? /^-?(0|[1-9][0-9]*)?$/.test(t)
    : /^-?$|^-?(0|[1-9][0-9]*)(\.[0-9]*)?$|^-?(0|[1-9][0-9]*)(\.[0-9]+)?[eE][-+]?[0-9]{0,2}$/.test(t);
  if (!ok || t.length > MAX_NUMBER_CHARS) return null;
  if (f.bounds && (/[eE]/.test(t) || !canReach(t, f.integer, f.bounds))) return null;
  return t;
}

/** A number that may end here: whole, and within its bounds. */
const numberDone = (f: Extract<Frame, { k: 'number' }>) =>
  /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(f.text) && (!f.bounds || inBounds(Number(f.text), f.bounds));

/** Every configuration one character leads to. */
function step(cfg: Config, c: string): Config[] {
  const { stack } = cfg;
  const f = stack.frame;
  const below = stack.below;
  const ws = WS.has(c);
  const keep = (s: Stack): Config => ({ stack: s, ws: 0 });
  const space = (): Config[] => (cfg.ws < MAX_WHITESPACE_RUN ? [{ stack, ws: cfg.ws + 1 }] : []);
  switch (f.k) {
    case 'done':
      return ws ? space() : [];
    case 'value':
      return ws ? space() : startValue(f.schema, c, below).map(keep);
    case 'literal':
      if (f.rest[0] !== c) return [];
      return [keep(f.rest.length === 1 ? close(below) : push(below, { k: 'literal', rest: f.rest.slice(1) }))];
    case 'number': {
      const text = stepNumber(f, c);
      if (text !== null) return [keep(push(below, { ...f, text }))];
      if (!numberDone(f)) return [];
      return step(keep(close(below)), c); // the number ended; the character belongs to what follows
    }
    case 'string': {
      const r = stepText(f.text, f.escape, c);
      if (!r) return [];
      if (r.closed) return [keep(close(below))];
      const max = f.schema['maxLength'];
      if (typeof max === 'number' && r.text.length > max) return [];
      return [keep(push(below, { ...f, text: r.text, escape: r.escape }))];
    }
    case 'key': {
      const allowed = allowedKeys(f.schema, f.seen);
      if (allowed && c === '\\' && f.escape === null) return []; // property names need no escapes: keep the text exact
      const r = stepText(f.text, f.escape, c);
      if (!r) return [];
      if (r.closed) {
        if (f.seen.includes(f.text) || (allowed && !allowed.includes(f.text))) return [];
        return [keep(push(below, { k: 'object', schema: f.schema, seen: [...f.seen, f.text], phase: 'colon' }))];
      }
      if (allowed && !allowed.some((k) => k.startsWith(r.text))) return [];
      return [keep(push(below, { ...f, text: r.text, escape: r.escape }))];
    }
    case 'object': {
      if (ws) return space();
      const key = (): Config[] => {
        const allowed = allowedKeys(f.schema, f.seen);
        return allowed && allowed.length === 0 ? [] : [keep(push(below, { k: 'key', schema: f.schema, seen: f.seen, text: '', escape: null }))];
      };
      const end = (): Config[] => (missingRequired(f.schema, f.seen).length ? [] : [keep(close(below))]);
      if (f.phase === 'open') return c === '"' ? key() : c === '}' ? end() : [];
      if (f.phase === 'comma') return c === '"' ? key() : [];
      const more = allowedKeys(f.schema, f.seen)?.length !== 0; // a comma must lead to a key
      if (f.phase === 'next') return c === ',' && more ? [keep(push(below, { ...f, phase: 'comma' }))] : c === '}' ? end() : [];
      // 'colon': the key was the last of seen; its value comes next
      if (c !== ':') return [];
      const schema = propertySchema(f.schema, f.seen[f.seen.length - 1]!) ?? {};
      return [keep(push(push(below, f), { k: 'value', schema }))];
    }
    case 'array': {
      if (ws) return space();
      const items = (f.schema['items'] ?? {}) as JsonSchema;
      const max = f.schema['maxItems'];
      const min = f.schema['minItems'];
      const item = () => (typeof max === 'number' && f.count >= max ? [] : startValue(items, c, push(below, f)).map(keep));
      const end = () => (typeof min === 'number' && f.count < min ? [] : [keep(close(below))]);
      if (f.phase === 'open') return c === ']' ? end() : item();
      if (f.phase === 'comma') return item();
      const room = typeof max !== 'number' || f.count < max; // a comma must lead to an item
      return c === ',' && room ? [keep(push(below, { ...f, phase: 'comma' }))] : c === ']' ? end() : [];
    }
  }
}

/** The shortest JSON text of a value of this schema. */
function minimalValue(schema: JsonSchema): string {
  const alt = alternatives(schema)[0] ?? {};
  const values = enumOf(alt);
  if (values?.length) return JSON.stringify(values[0]);
  switch (alt['type']) {
    case 'object':
      return '{' + missingRequired(alt, []).map((k) => `${JSON.stringify(k)}:${minimalValue(propertySchema(alt, k) ?? {})}`).join(',') + '}';
    case 'array': {
      const min = typeof alt['minItems'] === 'number' ? (alt['minItems'] as number) : 0;
      return '[' + Array.from({ length: min }, () => minimalValue((alt['items'] ?? {}) as JsonSchema)).join(',') + ']';
    }
    case 'string':
      return '""';
    case 'number':
    case 'integer': {
      const bounds = numberBounds(alt);
      return (bounds && boundedNumberText(alt['type'] === 'integer', bounds)) ?? '0';
    }
    case 'boolean':
      return 'false';
    case undefined:
      return '{}';
    default:
      return 'null';
  }
}

/** A member to add after a comma (a missing required key, else any key the object still takes), then
 * what else is required and the closing brace. */
function memberThenClose(schema: JsonSchema, seen: readonly string[]): string {
  const key = missingRequired(schema, seen)[0] ?? allowedKeys(schema, seen)?.[0] ?? '';
  return `${JSON.stringify(key)}:${minimalValue(propertySchema(schema, key) ?? {})}` + closeObject(schema, [...seen, key], false);
}

/** Missing required properties, then the closing brace; fresh: no member written yet (or a comma last). */
function closeObject(schema: JsonSchema, seen: readonly string[], fresh: boolean): string {
  const missing = missingRequired(schema, seen).map((k) => `${JSON.stringify(k)}:${minimalValue(propertySchema(schema, k) ?? {})}`);
  return (missing.length && !fresh ? ',' : '') + missing.join(',') + '}';
}

/** Items an array still needs for minItems, then the closing bracket; comma: one must come first. */
function closeArray(schema: JsonSchema, count: number, comma: boolean): string {
  const min = typeof schema['minItems'] === 'number' ? (schema['minItems'] as number) : 0;
  const more = Array.from({ length: Math.max(0, min - count) }, () => minimalValue((schema['items'] ?? {}) as JsonSchema));
  return (more.length && comma ? ',' : '') + more.join(',') + ']';
}

/** The shortest text that completes a configuration's document: the innermost frame first, then each
 * container below it, whose last value has just been completed. */
function completion(stack: Stack): string {
  let out = '';
  let s: Stack | null = stack;
  let valueDone = false;
  for (; s; s = s.below) {
    const f = s.frame;
    if (valueDone) {
      if (f.k === 'object') out += closeObject(f.schema, f.seen, false);
      else if (f.k === 'array') out += closeArray(f.schema, f.count + 1, true);
      continue;
    }
    valueDone = true;
    switch (f.k) {
      case 'done':
        return out;
      case 'value':
        out += minimalValue(f.schema);
        break;
      case 'literal':
        out += f.rest;
        break;
      case 'number':
        out += (f.bounds && completeNumber(f.text, f.integer, f.bounds)) ?? (/[0-9]$/.test(f.text) ? '' : '0');
        break;
      case 'string':
        out += (f.escape === '\\' ? 'n' : f.escape ? '0'.repeat(4 - f.escape.hex) : '') + '"';
        break;
      case 'key': {
        const full = allowedKeys(f.schema, f.seen)?.find((k) => k.startsWith(f.text)) ?? f.text;
        out += (f.escape === '\\' ? 'n' : f.escape ? '0'.repeat(4 - f.escape.hex) : '') + JSON.stringify(full.slice(f.text.length)).slice(1);
        out += ':' + minimalValue(propertySchema(f.schema, full) ?? {}) + closeObject(f.schema, [...f.seen, full], false);
        break;
      }
      case 'object':
        if (f.phase === 'colon') out += ':' + minimalValue(propertySchema(f.schema, f.seen[f.seen.length - 1]!) ?? {}) + closeObject(f.schema, f.seen, false);
        else if (f.phase === 'comma') out += memberThenClose(f.schema, f.seen);
        else out += closeObject(f.schema, f.seen, f.phase === 'open');
        break;
      case 'array':
        if (f.phase === 'comma') out += minimalValue((f.schema['items'] ?? {}) as JsonSchema) + closeArray(f.schema, f.count + 1, true);
        else out += closeArray(f.schema, f.count, f.phase === 'next');
        break;
    }
  }
  return out;
}

export class JsonConstraint {
  readonly active = true;
  private configs: Config[];
  private pending: Uint8Array = EMPTY;
  /** The tokens allowed at structural places seen lately, by the state (it alone decides them). */
  private readonly masks = new Map<string, Int32Array>();
  /** Where the tokens allowed inside a string are gathered, token after token. */
  private textTokens: TokenList | undefined;
  // ignoreBOM: a U+FEFF is a character like any other here, not something to drop unseen.
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** schema: a JSON schema; "json" mode is an object with any members, as Ollama's. */
  constructor(schema: JsonSchema | 'json') {
    const root: JsonSchema = schema === 'json' ? { type: 'object' } : schema;
    this.configs = [{ stack: push(null, { k: 'value', schema: root }), ws: 0 }];
  }

  /** Whether these bytes may come next (a token's; an empty one never may). */
  allows(bytes: Uint8Array): boolean {
    if (bytes.length === 0) return false;
    return this.feed(bytes, this.configs, this.pending).configs.length > 0;
  }

  /** Takes the bytes of the token that was chosen. */
  accept(bytes: Uint8Array): void {
    const r = this.feed(bytes, this.configs, this.pending);
    this.configs = r.configs;
    this.pending = r.pending;
  }

  /** Every token that may come next (stop tokens aside): the same as allows() on each, without looking
   * at each; valid until the next call. Inside a string, the string-safe tokens are taken as a class and
   * only the suffixes of the others are walked; elsewhere the vocabulary trie is walked from this state,
   * and the result kept for when the same state comes again (between the items of an array, say). */
  allowedTokens(vocab: VocabIndex): Int32Array {
    const place = this.textPlace();
    if (place) return this.tokensInText(vocab, place);
    if (this.pending.length) return this.everyTokenChecked(vocab); // not reached: see textPlace
    const key = this.configs.map((c) => JSON.stringify(stackKey(c.stack)) + c.ws).join('|');
    let mask = this.masks.get(key);
    if (!mask) {
      const out = new TokenList(256);
      const take = (k: number) => out.addRange(vocab.trieIdList, vocab.trieIdStart[k]!, vocab.trieIdStart[k + 1]!);
      walkTrie(vocab.trie, this.configs, CONFIG_STEPS, (k) => this.allows(vocab.trie.keyBytes(k)), take);
      if (this.masks.size >= MASKS_KEPT) this.masks.delete(this.masks.keys().next().value!);
      this.masks.set(key, (mask = out.done()));
    }
    return mask;
  }

  /** Where the answer is inside a string, or a key of an open object, and not in an escape (every
   * configuration alike): how many more characters it may take (the most of any configuration), and
   * whether the tokens that close it need the exact check: a key must not repeat one seen, and
   * configurations of different lengths left may close into different places. */
  private textPlace(): { room: number; exactClose: boolean } | null {
    let room = -1;
    let exactClose = false;
    for (const { stack } of this.configs) {
      const f = stack.frame;
      if (f.k === 'string' && f.escape === null) {
        const max = f.schema['maxLength'];
        const left = typeof max === 'number' ? max - f.text.length : Infinity;
        exactClose ||= room >= 0 && left !== room;
        room = Math.max(room, left);
      } else if (f.k === 'key' && f.escape === null && allowedKeys(f.schema, f.seen) === null) {
        exactClose ||= f.seen.length > 0 || (room >= 0 && room !== Infinity);
        room = Infinity;
      } else return null;
    }
    return room < 0 ? null : { room, exactClose };
  }

  private tokensInText(vocab: VocabIndex, place: { room: number; exactClose: boolean }): Int32Array {
    const out = (this.textTokens ??= new TokenList(vocab.stringSafe.length + 1024));
    out.clear();
    // A character the last token began counts as one more, unless this token may finish it (exact check).
    const carried = this.pending.length ? 1 : 0;
    const fits = (length: number, cut: boolean) => (cut ? length + carried < place.room : length + carried <= place.room);
    if (place.room > vocab.longestSafe + carried) out.addAll(vocab.stringSafe); // room for any of them
    else {
      const { stringSafe, safeLength, safeFlags } = vocab;
      for (let i = 0; i < stringSafe.length; i++) {
        const flags = safeFlags[i]!;
        if (carried && flags & SAFE_CONT ? this.allows(vocab.vocab.bytesOf(stringSafe[i]!)) : fits(safeLength[i]!, (flags & SAFE_CUT) !== 0)) out.add(stringSafe[i]!);
      }
    }
    // The other tokens are decided by their bytes from the first quote, backslash or control byte on
    // (the text before that byte stays text, whatever it is), and, for a string with a length limit
    // that the quote closes, by the length of that text.
    const decide = (k: number) => {
      const ids = vocab.suffixIds[k]!;
      const lengths = vocab.suffixPrefixLength[k]!;
      const closes = vocab.suffixTrie.keys[k]!.startsWith('"');
      for (let i = 0; i < ids.length; i++) {
        const exact = place.exactClose || (place.room !== Infinity && (!closes || lengths[i]! < 0 || carried));
        if (exact ? this.allows(vocab.vocab.bytesOf(ids[i]!)) : fits(lengths[i]!, false)) out.add(ids[i]!);
      }
    };
    const suffixAlone = (k: number) => this.feed(vocab.suffixTrie.keyBytes(k), this.configs, EMPTY).configs.length > 0;
    walkTrie(vocab.suffixTrie, this.configs, CONFIG_STEPS, suffixAlone, decide);
    return out.view(); // a fresh list of 120,000 ids per token would keep the garbage collector busy
  }

  private everyTokenChecked(vocab: VocabIndex): Int32Array {
    const out = new TokenList(1024);
    for (let id = 0; id < vocab.vocab.vocabSize; id++) if (this.allows(vocab.vocab.bytesOf(id))) out.add(id);
    return out.done();
  }

  /** True when the text so far is a whole document (the answer may end here). */
  get complete(): boolean {
    return this.pending.length === 0 && this.configs.some((c) => c.stack.frame.k === 'done' || (c.stack.frame.k === 'number' && numberDone(c.stack.frame) && c.stack.below === null));
  }

  /** True when nothing but whitespace could follow: the answer is over. */
  get finished(): boolean {
    return this.configs.length > 0 && this.configs.every((c) => c.stack.frame.k === 'done');
  }

  /** The shortest text that makes the answer so far a whole document. */
  finish(): string {
    const options = this.configs.map((c) => completion(c.stack));
    return options.reduce((a, b) => (b.length < a.length ? b : a), options[0] ?? '');
  }

  private feed(bytes: Uint8Array, configs: Config[], pending: Uint8Array): { configs: Config[]; pending: Uint8Array } {
    const all = new Uint8Array(pending.length + bytes.length);
    all.set(pending);
    all.set(bytes, pending.length);
    // Bytes of a character not yet whole wait for the next token; only a string may hold them.
    const cut = incompleteTail(all);
    const text = this.decoder.decode(all.subarray(0, all.length - cut));
    let cur = configs;
    for (const ch of text) {
      const next: Config[] = [];
      for (const c of cur) next.push(...step(c, ch));
      cur = dedupe(next);
      if (!cur.length) break;
    }
    // A character still being spelled fits only inside a string (counted against its maxLength: if
    // the answer is cut off there, it stays as U+FFFD), or a key that may be anything.
    if (cut) cur = cur.filter((c) => {
      const f = c.stack.frame;
      if (f.k === 'key') return !closedObject(f.schema);
      if (f.k !== 'string') return false;
      const max = f.schema['maxLength'];
      return typeof max !== 'number' || f.text.length < max;
    });
    return { configs: cur, pending: all.slice(all.length - cut) };
  }
}

/** Configurations that are equal frame by frame collapse into one, so enum and anyOf stay small. */
function dedupe(configs: Config[]): Config[] {
  if (configs.length < 2) return configs;
  const seen = new Set<string>();
  return configs.filter((c) => {
    const key = JSON.stringify(stackKey(c.stack)) + c.ws;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const schemaIds = new WeakMap<JsonSchema, number>();
let nextSchemaId = 1;
const schemaId = (s: JsonSchema) => schemaIds.get(s) ?? (schemaIds.set(s, nextSchemaId), nextSchemaId++);

/** A stack's frames as a comparable value; schemas by identity (they are large, and never equal apart). */
function stackKey(s: Stack | null): unknown[] {
  const out: unknown[] = [];
  for (let x = s; x; x = x.below) {
    const f = x.frame;
    out.push('schema' in f ? { ...f, schema: schemaId(f.schema) } : f);
  }
  return out;
}

const EMPTY = new Uint8Array(0);
const MASKS_KEPT = 64;

/** How the trie walk steps a set of configurations (the pending bytes of a character being empty). */
const CONFIG_STEPS: TrieRecognizer<Config[]> = {
  stepAscii(configs, char) {
    const next: Config[] = [];
    for (const c of configs) for (const n of step(c, char)) next.push(n);
    if (!next.length) return null;
    // Only a step that branches needs collapsing: a 256-member enum walks hundreds of nodes with 256
    // configurations, and comparing them at every node held the event loop for a second.
    return next.length > configs.length ? dedupe(next) : next;
  },
  takesNonAscii(configs) {
    return configs.some(({ stack: { frame: f } }) => {
      if (f.k === 'string') return f.escape === null;
      if (f.k === 'literal') return f.rest.charCodeAt(0) >= 0x80;
      if (f.k !== 'key' || f.escape !== null) return false;
      const keys = allowedKeys(f.schema, f.seen);
      return keys === null || keys.some((k) => k.startsWith(f.text) && k.charCodeAt(f.text.length) >= 0x80);
    });
  },
};
