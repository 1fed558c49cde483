// JSON Schema's minimum, maximum, exclusiveMinimum and exclusiveMaximum for constrained decoding: a
// number is written left to right, so each prefix must still lead somewhere inside the bounds ("1" may
// become 150 under minimum 100; "-" may not under minimum 0), a number may only end inside them, and an
// answer cut off mid-number is completed to one inside them. A bounded number is written without an
// exponent, which keeps what a prefix can reach a short list of intervals.

export interface NumberBounds {
  lo: number;
  loOpen: boolean;
  hi: number;
  hiOpen: boolean;
}

/** The longest number text constrained decoding writes. */
export const MAX_NUMBER_CHARS = 32;

/** The bounds a schema sets on a number (draft 4's boolean exclusives too), or null when it sets none. */
export function numberBounds(schema: Record<string, unknown>): NumberBounds | null {
  const num = (k: string) => (typeof schema[k] === 'number' && Number.isFinite(schema[k]) ? (schema[k] as number) : undefined);
  const min = num('minimum');
  const max = num('maximum');
  const exMin = num('exclusiveMinimum');
  const exMax = num('exclusiveMaximum');
  if (min === undefined && max === undefined && exMin === undefined && exMax === undefined) return null;
  const b: NumberBounds = { lo: min ?? -Infinity, loOpen: schema['exclusiveMinimum'] === true, hi: max ?? Infinity, hiOpen: schema['exclusiveMaximum'] === true };
  if (exMin !== undefined && exMin >= b.lo) Object.assign(b, { lo: exMin, loOpen: true });
  if (exMax !== undefined && exMax <= b.hi) Object.assign(b, { hi: exMax, hiOpen: true });
  return b;
}

export function inBounds(v: number, b: NumberBounds): boolean {
  return (v > b.lo || (v === b.lo && !b.loOpen)) && (v < b.hi || (v === b.hi && !b.hiOpen));
}

/** Whether any number, or any integer, lies within the bounds. */
export function boundsAdmit(b: NumberBounds, integer: boolean): boolean {
  return meets({ lo: -Infinity, loOpen: false, hi: Infinity, hiOpen: false }, b, integer);
}

/** Whether some number starting with this text (digits, '-', '.', no exponent) lies within the bounds. */
export function canReach(text: string, integer: boolean, b: NumberBounds): boolean {
  return reachable(text, integer).some((iv) => meets(iv, b, integer));
}

/** The shortest number within the bounds (0 when it is), or null when there is none. */
export function boundedNumberText(integer: boolean, b: NumberBounds): string | null {
  const positive = completeNumber('', integer, b);
  const negative = completeNumber('-', integer, b);
  if (negative === null) return positive;
  return positive !== null && positive.length <= negative.length + 1 ? positive : '-' + negative;
}

/** The shortest text to append to a number prefix ('' or '-' included) that makes a number within the
 * bounds; null when none does. */
export function completeNumber(text: string, integer: boolean, b: NumberBounds): string | null {
  const neg = text.startsWith('-');
  const [int, frac] = text.slice(neg ? 1 : 0).split('.') as [string, string | undefined];
  const room = MAX_NUMBER_CHARS - text.length;
  const fits = (suffix: string) => {
    const full = text + suffix;
    return /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(full) && inBounds(Number(full), b);
  };
  for (let n = 0; n <= room; n++) {
    for (const suffix of candidates(neg, int, frac, n, integer, b)) if (fits(suffix)) return suffix;
  }
  return null;
}

// --- what a prefix can reach ---

interface Interval {
  lo: number;
  loOpen: boolean;
  hi: number;
  hiOpen: boolean;
}

/** The values numbers beginning with text can take, as intervals. */
function reachable(text: string, integer: boolean): Interval[] {
  const neg = text.startsWith('-');
  const [int, frac] = text.slice(neg ? 1 : 0).split('.') as [string, string | undefined];
  const room = MAX_NUMBER_CHARS - text.length;
  const magnitudes: Interval[] = [];
  if (frac !== undefined) {
    const base = Number(`${int}.${frac || '0'}`);
    magnitudes.push({ lo: base, loOpen: false, hi: base + 10 ** -frac.length, hiOpen: true });
  } else if (int === '') {
    magnitudes.push({ lo: 0, loOpen: false, hi: Infinity, hiOpen: false });
  } else if (int === '0') {
    magnitudes.push(integer ? { lo: 0, loOpen: false, hi: 0, hiOpen: false } : { lo: 0, loOpen: false, hi: 1, hiOpen: true });
  } else {
    const p = Number(int);
    for (let k = 0; k <= room; k++) {
      const lo = p * 10 ** k;
      magnitudes.push(integer ? { lo, loOpen: false, hi: (p + 1) * 10 ** k - 1, hiOpen: false } : { lo, loOpen: false, hi: (p + 1) * 10 ** k, hiOpen: true });
    }
  }
  return neg ? magnitudes.map((m) => ({ lo: -m.hi, loOpen: m.hiOpen, hi: -m.lo, hiOpen: m.loOpen })) : magnitudes;
}

/** Whether two intervals share a value (an integer, when integer). */
function meets(a: Interval, b: Interval, integer: boolean): boolean {
  const lo = a.lo > b.lo ? a.lo : b.lo;
  const loOpen = a.lo > b.lo ? a.loOpen : a.lo < b.lo ? b.loOpen : a.loOpen || b.loOpen;
  const hi = a.hi < b.hi ? a.hi : b.hi;
  const hiOpen = a.hi < b.hi ? a.hiOpen : a.hi > b.hi ? b.hiOpen : a.hiOpen || b.hiOpen;
  if (integer) {
    const first = loOpen ? Math.floor(lo) + 1 : Math.ceil(lo);
    const last = hiOpen ? Math.ceil(hi) - 1 : Math.floor(hi);
    return first <= last;
  }
  return lo < hi || (lo === hi && !loOpen && !hiOpen);
}

// --- completing a cut-off number ---

/** Suffixes of n characters worth trying, smallest value in the bounds first: n more integer digits,
 * or (for non-integers) digits, a point and decimals. */
function* candidates(neg: boolean, int: string, frac: string | undefined, n: number, integer: boolean, b: NumberBounds): Generator<string> {
  // Work on the magnitude: the bounds mirrored for a negative number.
  const m: NumberBounds = neg ? { lo: -b.hi, loOpen: b.hiOpen, hi: -b.lo, hiOpen: b.loOpen } : b;
  if (frac !== undefined) {
    if (n === 0 && frac === '') return;
    const base = Number(`${int}.${frac || '0'}`);
    yield* decimals(base, frac.length, n, m, (digits) => digits);
    return;
  }
  if (int === '0' && n === 0) yield '';
  if (int !== '0') {
    // n more digits: magnitudes [p * 10^n, (p + 1) * 10^n - 1], the smallest of them in the bounds.
    const p = int === '' ? 0 : Number(int);
    const first = int === '' ? (n === 1 ? 0 : 10 ** (n - 1)) : p * 10 ** n;
    const last = int === '' ? 10 ** n - 1 : (p + 1) * 10 ** n - 1;
    if (n > 0 || int !== '') {
      const v = Math.max(first, m.loOpen ? Math.floor(m.lo) + 1 : Math.ceil(m.lo));
      if (v <= last && Number.isSafeInteger(v)) yield String(v).slice(int.length);
    }
  }
  if (integer) return;
  // Digits, a point and decimals: k more integer digits, then n - k - 1 decimals.
  for (let k = 0; k <= n - 2; k++) {
    if (int === '' && k === 0) continue; // the integer part needs a digit
    if (int === '0' && k > 0) break;
    const p = int === '' ? 0 : Number(int);
    const firstInt = int === '' ? (k === 1 ? 0 : 10 ** (k - 1)) : p * 10 ** k;
    const lastInt = int === '' ? 10 ** k - 1 : (p + 1) * 10 ** k - 1;
    const whole = Math.min(Math.max(firstInt, Math.floor(m.lo)), lastInt);
    if (!Number.isSafeInteger(whole)) continue;
    const intPart = String(whole).slice(int.length);
    yield* decimals(whole, 0, n - k - 1, m, (digits) => `${intPart}.${digits}`);
  }
}

/** base (whose decimals so far number `have`) followed by d more decimals: the smallest value in the
 * bounds, as `wrap(digits)`. */
function* decimals(base: number, have: number, d: number, m: NumberBounds, wrap: (digits: string) => string): Generator<string> {
  if (d === 0) {
    yield wrap('');
    return;
  }
  const scale = 10 ** (have + d);
  const start = Math.round(base * scale);
  let v = Math.max(start, Math.ceil(m.lo * scale - 1e-6));
  if (v === Math.round(m.lo * scale) && m.loOpen) v++;
  const step = v - start;
  if (step < 0 || step >= 10 ** d) return;
  yield wrap(String(step).padStart(d, '0'));
}
