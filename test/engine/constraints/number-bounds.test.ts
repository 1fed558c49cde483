// minimum / maximum for a number written left to right: which prefixes can still reach the bounds, and
// the shortest completion, both checked against brute force over every short number.
import test from 'ava';
import { boundedNumberText, boundsAdmit, canReach, completeNumber, inBounds, numberBounds } from '../../../daemon/engine/constraints/number-bounds.js';

/** Every number text of the grammar without an exponent, up to n characters. */
function numbers(n: number, integer: boolean): string[] {
  const out: string[] = [];
  const grow = (text: string) => {
    if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text)) out.push(text);
    if (text.length === n) return;
    for (const c of integer ? '-0123456789' : '-0123456789.') {
      const next = text + c;
      if ((integer ? /^-?(0|[1-9][0-9]*)?$/ : /^-?$|^-?(0|[1-9][0-9]*)(\.[0-9]*)?$/).test(next)) grow(next);
    }
  };
  grow('');
  return out;
}

const SCHEMAS = [
  { minimum: 0, maximum: 100 },
  { minimum: 5, maximum: 7 },
  { exclusiveMinimum: 0, exclusiveMaximum: 1 },
  { minimum: -12, maximum: -3 },
  { minimum: 0.25, maximum: 0.5 },
  { maximum: 0 },
  { minimum: 0, exclusiveMaximum: true, maximum: 10 },
  { minimum: 990 },
];

test('a prefix can reach the bounds when some number it starts lies within them (brute force, 5 characters)', (t) => {
  for (const integer of [true, false]) {
    const all = numbers(5, integer);
    for (const schema of SCHEMAS) {
      const b = numberBounds(schema)!;
      const reaching = new Set<string>();
      for (const s of all) if (inBounds(Number(s), b)) for (let i = 1; i <= s.length; i++) reaching.add(s.slice(0, i));
      const prefixes = new Set(all.flatMap((s) => Array.from({ length: s.length }, (_, i) => s.slice(0, i + 1))));
      for (const p of prefixes) {
        // A prefix no short number completes may still reach the bounds with a longer one: then a
        // completion must exist.
        if (reaching.has(p)) t.true(canReach(p, integer, b), `${JSON.stringify(schema)} ${integer ? 'integer' : 'number'} "${p}"`);
        else if (canReach(p, integer, b)) t.truthy(completeNumber(p, integer, b), `${JSON.stringify(schema)} "${p}" said reachable, but no completion`);
      }
    }
  }
});

test('completions are the shortest that land within the bounds, and whole values are within them', (t) => {
  for (const integer of [true, false]) {
    const inside = numbers(5, integer);
    for (const schema of SCHEMAS) {
      const b = numberBounds(schema)!;
      const within = inside.filter((s) => inBounds(Number(s), b));
      for (const p of ['', '-', '1', '9', '0', '0.', '-1', '99', '0.3']) {
        if (integer && p.includes('.')) continue;
        if (!canReach(p, integer, b)) continue;
        const suffix = completeNumber(p, integer, b);
        t.not(suffix, null, `${JSON.stringify(schema)} "${p}"`);
        const full = p + suffix!;
        t.true(inBounds(Number(full), b), `${JSON.stringify(schema)} "${p}" completed as ${full}`);
        const lengths = within.filter((s) => s.startsWith(p)).map((s) => s.length);
        if (lengths.length) t.is(full.length, Math.min(...lengths), `${JSON.stringify(schema)} "${p}" completed as ${full}`);
      }
      const whole = boundedNumberText(integer, b);
      if (!boundsAdmit(b, integer)) t.is(whole, null, `${JSON.stringify(schema)} admits no ${integer ? 'integer' : 'number'}`);
      else t.true(whole !== null && inBounds(Number(whole), b), `${JSON.stringify(schema)}: ${whole}`);
    }
  }
});

test('bounds that admit nothing are found; draft-4 booleans and draft-6 numbers both read', (t) => {
  t.false(boundsAdmit(numberBounds({ minimum: 0.2, maximum: 0.8 })!, true), 'no integer in [0.2, 0.8]');
  t.true(boundsAdmit(numberBounds({ minimum: 0.2, maximum: 0.8 })!, false));
  t.false(boundsAdmit(numberBounds({ minimum: 3, exclusiveMaximum: 3 })!, false));
  t.deepEqual(numberBounds({ minimum: 1, exclusiveMinimum: true }), { lo: 1, loOpen: true, hi: Infinity, hiOpen: false });
  t.deepEqual(numberBounds({ exclusiveMinimum: 1 }), { lo: 1, loOpen: true, hi: Infinity, hiOpen: false });
  t.is(numberBounds({ type: 'number' }), null);
});
