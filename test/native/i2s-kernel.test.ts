// The I2_S kernel against an independent unpacking of spec §3.3 (byte p of a 128-block holds elements
// p, p+32, p+64, p+96 in bits 7:6, 5:4, 3:2, 1:0; code = weight + 1), and on extreme inputs.
import test from 'ava';
import { loadAddon } from '../../daemon/engine/native.js';
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

function exactDot(w: Int8Array, q: Int8Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * q[i]!;
  return s;
}

test('random rows of many lengths match the exact sum', (t) => {
  const rng = new Random(99);
  for (const k of [128, 256, 640, 2560, 6912, 128 * 77]) {
    for (let rep = 0; rep < 5; rep++) {
      const w = Int8Array.from({ length: k }, () => rng.below(3) - 1);
      const q = Int8Array.from({ length: k }, () => rng.below(256) - 128);
      t.is(addon.i2sDot(pack(w), q), exactDot(w, q), `k=${k}`);
    }
  }
});

test('extreme inputs do not wrap: all +1 or -1 against -128 or 127, K = 6912 and 65536', (t) => {
  for (const k of [6912, 65536]) {
    for (const wv of [1, -1]) {
      for (const qv of [-128, 127]) {
        const w = new Int8Array(k).fill(wv);
        const q = new Int8Array(k).fill(qv);
        t.is(addon.i2sDot(pack(w), q), wv * qv * k, `w=${wv} q=${qv} k=${k}`);
      }
    }
  }
});

test('mismatched lengths are refused', (t) => {
  t.throws(() => addon.i2sDot(new Uint8Array(31), new Int8Array(124)), { message: /multiple of 128/ });
});
