// Mutations of a GGUF model file for the fuzzer: a recipe is a short list of edits (bytes written at an
// offset, or a truncation), made from the header's own layout so that most of them land on a count, a
// length, an offset, a dimension or a type; recipes are small JSON, so a failing one is kept as a
// regression case without keeping a 40 MB file.
import { Random } from '../../daemon/synth/random.js';
import { ggufLayout, type GgufLayout } from '../helpers/gguf-layout.js';

export type Edit = { op: 'write'; at: number; hex: string; why: string } | { op: 'truncate'; length: number; why: string };

export interface Recipe {
  /** Which seed model: "micro-official", "tiny-extended", ... */
  model: string;
  edits: Edit[];
}

export function applyRecipe(seed: Buffer, recipe: Recipe): Buffer {
  let out = Buffer.from(seed);
  for (const e of recipe.edits) {
    if (e.op === 'truncate') out = out.subarray(0, Math.min(e.length, out.length));
    else {
      const bytes = Buffer.from(e.hex, 'hex');
      if (e.at >= 0 && e.at + bytes.length <= out.length) bytes.copy(out, e.at);
    }
  }
  return out;
}

/** Values at the edges of what a field's readers check. */
const BOUNDARIES_64 = [0n, 1n, 2n, 3n, 4n, 31n, 32n, 33n, 127n, 128n, 255n, 256n, 4095n, 4096n, 65535n, 65536n, (1n << 31n) - 1n, 1n << 31n, (1n << 32n) - 1n, 1n << 32n, 1n << 40n, 1n << 62n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];

function u64hex(v: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.toString('hex');
}

function u32hex(v: bigint): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(Number(BigInt.asUintN(32, v)));
  return b.toString('hex');
}

interface Field {
  at: number;
  bytes: 4 | 8;
  what: string;
}

/** Every integer field of the header the loader reads. */
function fields(l: GgufLayout): Field[] {
  const out: Field[] = [
    { at: 8, bytes: 8, what: 'tensor count' },
    { at: 16, bytes: 8, what: 'metadata count' },
    { at: 4, bytes: 4, what: 'version' },
  ];
  for (const kv of l.kvs) {
    out.push({ at: kv.at, bytes: 8, what: `${kv.key}: key length` }, { at: kv.typeAt, bytes: 4, what: `${kv.key}: value type` });
    out.push({ at: kv.valueAt, bytes: 8, what: `${kv.key}: value (or string length)` }, { at: kv.valueAt, bytes: 4, what: `${kv.key}: value (or array element type)` });
    out.push({ at: kv.valueAt + 4, bytes: 8, what: `${kv.key}: array length` });
  }
  for (const t of l.tensors) {
    out.push({ at: t.at, bytes: 8, what: `${t.name}: name length` }, { at: t.nDimsAt, bytes: 4, what: `${t.name}: dimension count` });
    for (const [d, at] of t.neAt.entries()) out.push({ at, bytes: 8, what: `${t.name}: dimension ${d}` });
    out.push({ at: t.typeAt, bytes: 4, what: `${t.name}: type` }, { at: t.offsetAt, bytes: 8, what: `${t.name}: data offset` });
  }
  return out;
}

const pick = <T>(r: Random, list: readonly T[]): T => list[r.below(list.length)]!;

/** One edit of a random kind. */
function mutation(r: Random, seed: Buffer, l: GgufLayout): Edit[] {
  const kind = r.below(100);
  if (kind < 35) {
    // A boundary value in an integer field.
    const f = pick(r, fields(l));
    const v = r.below(4) === 0 ? BigInt(r.u32()) * BigInt(1 + r.below(1000)) : pick(r, BOUNDARIES_64);
    return [{ op: 'write', at: f.at, hex: f.bytes === 8 ? u64hex(v) : u32hex(v), why: `${f.what} = ${v}` }];
  }
  if (kind < 60) {
    // Bit flips, mostly in the header.
    const span = r.below(5) === 0 ? seed.length : l.headerEnd;
    return Array.from({ length: 1 + r.below(8) }, () => {
      const at = r.below(span);
      return { op: 'write' as const, at, hex: Buffer.from([seed[at]! ^ (1 << r.below(8))]).toString('hex'), why: `bit flip at ${at}` };
    });
  }
  if (kind < 72) {
    // Truncation, mostly in or near the header.
    const length = r.below(3) === 0 ? r.below(seed.length) : r.below(l.headerEnd + 4096);
    return [{ op: 'truncate', length, why: `truncated to ${length} bytes` }];
  }
  if (kind < 82) {
    // A duplicated name: one key or tensor name written over another of the same length.
    const names = [...l.kvs.map((k) => ({ at: k.at, name: k.key })), ...l.tensors.map((t) => ({ at: t.at, name: t.name }))];
    const a = pick(r, names);
    const twins = names.filter((b) => b !== a && b.name.length === a.name.length);
    if (!twins.length) return [];
    const b = pick(r, twins);
    return [{ op: 'write', at: b.at + 8, hex: Buffer.from(a.name).toString('hex'), why: `${b.name} renamed ${a.name}` }];
  }
  if (kind < 90) {
    // Reordered: two tensor records of the same size swapped.
    const sized = l.tensors.map((t, i) => ({ t, end: (l.tensors[i + 1]?.at ?? l.headerEnd) }));
    const a = pick(r, sized);
    const same = sized.filter((b) => b !== a && b.end - b.t.at === a.end - a.t.at);
    if (!same.length) return [];
    const b = pick(r, same);
    return [
      { op: 'write', at: a.t.at, hex: seed.subarray(b.t.at, b.end).toString('hex'), why: `${a.t.name} and ${b.t.name} swapped` },
      { op: 'write', at: b.t.at, hex: seed.subarray(a.t.at, a.end).toString('hex'), why: '' },
    ];
  }
  // A huge string or array length.
  const kv = pick(r, l.kvs);
  const v = pick(r, [1n << 32n, 1n << 40n, 1n << 62n, BigInt(seed.length), BigInt(seed.length - kv.valueAt)]);
  const arrayLength = r.below(2) === 0;
  return [{ op: 'write', at: arrayLength ? kv.valueAt + 4 : kv.valueAt, hex: u64hex(v), why: `${kv.key}: ${arrayLength ? 'array' : 'string'} length ${v}` }];
}

/** A recipe of one to three mutations of the seed model. */
export function randomRecipe(r: Random, model: string, seed: Buffer): Recipe {
  const l = ggufLayout(seed);
  const edits: Edit[] = [];
  const n = 1 + (r.below(3) === 0 ? r.below(3) : 0);
  for (let tries = 0; tries < 50 && edits.filter((e) => e.why).length < n; tries++) edits.push(...mutation(r, seed, l));
  return { model, edits };
}
