// Every kernel set this CPU runs. The ternary dot against an independent unpacking of spec §3.3 (byte p
// of a 128-block holds elements p, p+32, p+64, p+96 in bits 7:6, 5:4, 3:2, 1:0; code = weight + 1), on
// random shapes, on tiles of 1 to 8 tokens, and on extreme inputs: the results must be exact. The float
// kernels (F16 rows, the int8 head) against double-precision sums, within float rounding.
import test from 'ava';
import { loadAddon } from '../../daemon/engine/index.js';
import { toHalf } from '../../daemon/synth/half.js';
import { Random } from '../../daemon/synth/random.js';

const addon = loadAddon();

function pack(weights: Int8Array): Uint8Array {
  const out = new Uint8Array(weights.length / 4);
  for (let block = 0; block < weights.length / 128; block++) {
    for (let p = 0; p < 32; p++) {
      let byte = 0;
      for (let g = 0; g < 4; g++) byte |= (weights[block * 128 + g * 32 + p]! + 1) << (6 - 2 * g);
      out[block * 32 + p] = byte;
    }
  }
  return out;
}

function fromF16(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  const v = exp === 0 ? ((h & 0x3ff) / 1024) * 2 ** -14 : (1 + (h & 0x3ff) / 1024) * 2 ** (exp - 15);
  return h & 0x8000 ? -v : v;
}

function exactDot(w: Int8Array, q: Int8Array, offset = 0): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * q[offset + i]!;
  return s;
}

test('the scalar reference is always available and listed first', (t) => {
  t.is(addon.kernels[0], 'scalar');
  t.log(`kernels on this CPU: ${addon.kernels.join(', ')}`);
  if (process.arch === 'x64') t.true(addon.kernels.includes('avx2'), 'every x86-64 CI machine has AVX2');
});

for (const kernel of addon.kernels) {
  test(`${kernel}: random rows of many lengths, 1 to 9 rows a call, 1 to 8 tokens, match the exact sum`, (t) => {
    const rng = new Random(99);
    for (const k of [128, 256, 640, 2560, 6912, 128 * 77]) {
      for (let n = 1; n <= 8; n++) {
        // Row counts around the kernels' row blocks (1 to 4 rows) and past them.
        const nRows = [1, 2, 3, 4, 5, 7, 8, 9][(n + k / 128) % 8]!;
        const rows = Array.from({ length: nRows }, () => Int8Array.from({ length: k }, () => rng.below(3) - 1));
        const q = Int8Array.from({ length: k * n }, () => rng.below(256) - 128);
        const want = Array.from({ length: n * nRows }, (_, i) => exactDot(rows[i % nRows]!, q, Math.floor(i / nRows) * k));
        const packed = new Uint8Array(nRows * (k / 4));
        rows.forEach((w, r) => packed.set(pack(w), r * (k / 4)));
        t.deepEqual(addon.i2sDot(packed, q, n, kernel), want, `k=${k} rows=${nRows} tokens=${n}`);
      }
    }
  });

  test(`${kernel}: extreme inputs do not wrap: all +1 or -1 against -128 or 127, K = 6912 and 65536`, (t) => {
    for (const k of [6912, 65536]) {
      for (const wv of [1, -1]) {
        for (const qv of [-128, 127]) {
          const packed = pack(new Int8Array(k * 5).fill(wv)); // five equal rows: 128-blocks pack row by row
          const q = new Int8Array(k * 8).fill(qv);
          t.deepEqual(addon.i2sDot(packed, q, 8, kernel), new Array(8 * 5).fill(wv * qv * k), `w=${wv} q=${qv} k=${k}`);
        }
      }
    }
  });

  test(`${kernel}: F16 row dot products agree with a double-precision sum`, (t) => {
    const rng = new Random(5);
    for (const k of [32, 80, 100, 128, 2560, 37]) {
      for (let n = 1; n <= 4; n++) {
        const e = Uint16Array.from({ length: k }, () => toHalf((rng.float() - 0.5) * 0.2));
        const x = Float32Array.from({ length: k * n }, () => (rng.float() - 0.5) * 8);
        const got = addon.f16Dot(e, x, n, kernel);
        for (let i = 0; i < n; i++) {
          let want = 0;
          let mag = 0;
          for (let j = 0; j < k; j++) {
            want += fromF16(e[j]!) * x[i * k + j]!;
            mag += Math.abs(fromF16(e[j]!) * x[i * k + j]!);
          }
          t.true(Math.abs(got[i]! - want) <= 1e-6 * mag + 1e-6, `k=${k} token ${i}: ${got[i]} vs ${want}`);
        }
      }
    }
  });
}

for (const kernel of addon.kernels) {
  test(`${kernel}: attention scores agree with double precision, and a pair alone gets the bits it gets in a batch`, (t) => {
    const rng = new Random(8);
    for (const dim of [1, 7, 32, 64, 100, 128]) {
      for (const [nQ, nK] of [[1, 1], [1, 13], [3, 5], [4, 9], [6, 2], [8, 17]] as const) {
        const q = Float32Array.from({ length: nQ * dim }, () => (rng.float() - 0.5) * 4);
        const k = Uint16Array.from({ length: nK * dim }, () => toHalf((rng.float() - 0.5) * 4));
        const s = addon.attnScores(q, k, dim, kernel);
        t.is(s.length, nQ * nK);
        for (let i = 0; i < nQ; i++) {
          for (let j = 0; j < nK; j++) {
            let want = 0;
            let mag = 0;
            for (let d = 0; d < dim; d++) {
              want += q[i * dim + d]! * fromF16(k[j * dim + d]!);
              mag += Math.abs(q[i * dim + d]! * fromF16(k[j * dim + d]!));
            }
            const got = s[i * nK + j]!;
            t.true(Math.abs(got - want) <= 1e-6 * mag + 1e-7, `dim=${dim} ${nQ}x${nK} (${i},${j}): ${got} vs ${want}`);
            if ((i + j) % 3 === 0) {
              const alone = addon.attnScores(q.subarray(i * dim, (i + 1) * dim), k.subarray(j * dim, (j + 1) * dim), dim, kernel);
              t.is(alone[0], got, `dim=${dim} ${nQ}x${nK} (${i},${j}) alone`);
            }
          }
        }
      }
    }
  });

  test(`${kernel}: attention value sums agree with double precision, each row over its own keys, a row alone bit-identical`, (t) => {
    const rng = new Random(9);
    for (const dim of [1, 7, 32, 64, 100, 128]) {
      for (const [nQ, nV] of [[1, 1], [1, 40], [4, 9], [5, 12], [8, 3]] as const) {
        const v = Uint16Array.from({ length: nV * dim }, () => toHalf((rng.float() - 0.5) * 4));
        const p = Float32Array.from({ length: nQ * nV }, () => rng.float());
        // Causal rows see a growing prefix of the keys, as consecutive tokens of one prefill do.
        const nKeys = Uint32Array.from({ length: nQ }, (_, i) => Math.max(1, nV - (nQ - 1 - i)));
        const out = Float32Array.from({ length: nQ * dim }, () => (rng.float() - 0.5) * 2);
        const got = addon.attnValues(p, nKeys, v, out, kernel);
        for (let i = 0; i < nQ; i++) {
          for (let d = 0; d < dim; d++) {
            let want = out[i * dim + d]!;
            let mag = Math.abs(want);
            for (let j = 0; j < nKeys[i]!; j++) {
              want += p[i * nV + j]! * fromF16(v[j * dim + d]!);
              mag += Math.abs(p[i * nV + j]! * fromF16(v[j * dim + d]!));
            }
            t.true(Math.abs(got[i * dim + d]! - want) <= 1e-6 * mag + 1e-7, `dim=${dim} ${nQ} rows, row ${i} element ${d}`);
          }
          const alone = addon.attnValues(p.subarray(i * nV, (i + 1) * nV), nKeys.subarray(i, i + 1), v, out.subarray(i * dim, (i + 1) * dim), kernel);
          t.deepEqual(alone, got.subarray(i * dim, (i + 1) * dim), `dim=${dim} ${nQ} rows: row ${i} alone`);
        }
      }
    }
  });

  test(`${kernel}: int8 head rows agree with a double-precision sum, and batching changes no bit`, (t) => {
    const rng = new Random(13);
    const int8 = (n: number) => Int8Array.from({ length: n }, () => rng.below(255) - 127);
    const scales = (n: number) => Float32Array.from({ length: n }, () => rng.float() * 0.01);
    for (const k of [32, 96, 1184, 2560]) {
      for (const n of [1, 3, 8]) {
        const w = int8(k);
        const ws = scales(k / 32);
        const xq = int8(2 * k * n);
        const xs = scales((n * k) / 32);
        const got = addon.q8Dot(w, ws, xq, xs, n, kernel);
        for (let tok = 0; tok < n; tok++) {
          let want = 0;
          let mag = 0;
          for (let b = 0; b < k / 32; b++) {
            let dq = 0;
            let dr = 0;
            for (let i = b * 32; i < b * 32 + 32; i++) {
              dq += w[i]! * xq[tok * 2 * k + i]!;
              dr += w[i]! * xq[tok * 2 * k + k + i]!;
            }
            const term = ws[b]! * xs[(tok * k) / 32 + b]! * (254 * dq + dr);
            want += term;
            mag += Math.abs(term);
          }
          t.true(Math.abs(got[tok]! - want) <= 2e-5 * mag + 1e-9, `k=${k} tokens=${n} token ${tok}: ${got[tok]} vs ${want}`);
          const alone = addon.q8Dot(w, ws, xq.subarray(tok * 2 * k, (tok + 1) * 2 * k), xs.subarray((tok * k) / 32, ((tok + 1) * k) / 32), 1, kernel);
          t.is(alone[0], got[tok], `k=${k}: token ${tok} alone and in a tile of ${n}`);
        }
      }
    }
  });
}

test('mismatched lengths and unknown kernels are refused', (t) => {
  t.throws(() => addon.i2sDot(new Uint8Array(31), new Int8Array(124)), { message: /multiple of 128 elements/ });
  t.throws(() => addon.i2sDot(new Uint8Array(33), new Int8Array(128)), { message: /whole rows/ });
  t.throws(() => addon.i2sDot(new Uint8Array(32), new Int8Array(128), 1, 'z80'), { message: /kernel "z80" is unknown/ });
});

test('the AVX2 multiply-add ceiling probe of npm run bench: x86-64 builds only, a rate an AVX2 core can retire', (t) => {
  if (process.arch !== 'x64') {
    t.is(addon.probeAvx2Peak, undefined);
    return;
  }
  // Billions of maddubs + add pairs a second on one thread: an AVX2 core at 1-6 GHz retires 1 to 2 a cycle.
  const rate = addon.probeAvx2Peak!(1);
  if (!addon.kernels.includes('avx2')) {
    t.is(rate, null);
  } else {
    t.true(typeof rate === 'number' && rate > 0.5 && rate < 20, `${rate} G pairs/s`);
  }
  t.throws(() => addon.probeAvx2Peak!(0), { message: /threads must be an integer from 1/ });
});
