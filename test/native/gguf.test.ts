// The corrupt-file suite: every damaged model file is refused with a precise error, never a crash
// or a hang. Run it under AddressSanitizer with `npm run test:asan`.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitnetModel } from '../../daemon/engine/index.js';
import { ggufLayout } from '../helpers/gguf-layout.js';
import { syntheticModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'bitnetd-corrupt-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const original = syntheticModel('micro', 'official').then((path) => readFileSync(path));

let counter = 0;
async function expectRefused(t: import('ava').ExecutionContext, bytes: Buffer, message: RegExp): Promise<void> {
  const path = join(dir, `corrupt-${counter++}.gguf`);
  writeFileSync(path, bytes);
  try {
    const err = await t.throwsAsync(BitnetModel.load(path));
    t.true(err!.message.startsWith(path + ': '), `names the file: ${err!.message}`);
    t.regex(err!.message, message);
  } finally {
    rmSync(path, { force: true });
  }
}

async function mutate(edit: (b: Buffer, layout: ReturnType<typeof ggufLayout>) => Buffer | void): Promise<Buffer> {
  const src = await original;
  const copy = Buffer.from(src);
  return edit(copy, ggufLayout(copy)) ?? copy;
}

test('the unmodified file loads', async (t) => {
  const path = join(dir, 'good.gguf');
  writeFileSync(path, await original);
  const model = await BitnetModel.load(path);
  t.is(model.info.hparams.nLayer, 1);
});

test('truncated at 10 places', async (t) => {
  const src = await original;
  const layout = ggufLayout(src);
  const tokens = layout.kvs.find((k) => k.key === 'tokenizer.ggml.tokens')!;
  const lastTensor = layout.tensors.at(-1)!;
  const cuts: [number, RegExp][] = [
    [0, /empty/],
    [3, /truncated while reading the magic/],
    [6, /truncated while reading the version/],
    [20, /truncated while reading the metadata count|absurd/],
    [30, /truncated|absurd/],
    [tokens.valueAt + 100, /truncated|more than the file can hold/],
    [layout.kvs.at(-1)!.valueAt + 2, /truncated/],
    [lastTensor.offsetAt + 3, /truncated/],
    [layout.headerEnd + 1000, /ends past the end of the file/],
    [src.length - 1, /ends past the end of the file/],
  ];
  for (const [at, message] of cuts) await expectRefused(t, src.subarray(0, at), message);
});

test('bad magic', async (t) => {
  await expectRefused(t, await mutate((b) => void b.write('GGML', 0)), /not a GGUF file/);
});

test('bad version', async (t) => {
  await expectRefused(t, await mutate((b) => void b.writeUInt32LE(1, 4)), /unsupported GGUF version 1/);
  await expectRefused(t, await mutate((b) => void b.writeUInt32LE(99, 4)), /unsupported GGUF version 99/);
});

test('absurd counts', async (t) => {
  await expectRefused(t, await mutate((b) => void b.writeBigUInt64LE(1n << 60n, 8)), /absurd tensor count/);
  await expectRefused(t, await mutate((b) => void b.writeBigUInt64LE(1n << 60n, 16)), /absurd metadata count/);
  await expectRefused(t, await mutate((b) => void b.writeBigUInt64LE(10_000_000n, 16)), /absurd metadata count|truncated/);
});

test('counts a file could hold but no model has are refused before memory is taken for them', async (t) => {
  const src = await original;
  t.true(src.length > 100_000 * 33, 'the file is large enough that the byte bound alone lets these through');
  await expectRefused(t, await mutate((b) => void b.writeBigUInt64LE(100_000n, 16)), /absurd metadata count 100000/);
  await expectRefused(t, await mutate((b) => void b.writeBigUInt64LE(100_000n, 8)), /absurd tensor count 100000/);
  for (const blocks of [1 << 23, 1 << 30]) {
    const before = process.memoryUsage().rss;
    await expectRefused(
      t,
      await mutate((b, l) => void b.writeUInt32LE(blocks, l.kvs.find((k) => k.key === 'bitnet-b1.58.block_count')!.valueAt)),
      new RegExp(`block_count ${blocks} needs 11 tensors per layer, but the file has \\d+ tensors in all`),
    );
    t.true(process.memoryUsage().rss - before < 200e6, `block_count ${blocks}: no gigabytes taken first`);
  }
});

test('absurd string and array lengths', async (t) => {
  await expectRefused(t, await mutate((b, l) => void b.writeBigUInt64LE(1n << 62n, l.kvs[0]!.at)), /metadata key has an absurd length/);
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeBigUInt64LE(1n << 62n, l.kvs.find((k) => k.key === 'general.name')!.valueAt)),
    /metadata string has an absurd length/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeBigUInt64LE(1n << 40n, l.kvs.find((k) => k.key === 'tokenizer.ggml.tokens')!.valueAt + 4)),
    /tokenizer.ggml.tokens claims \d+ strings, more than the file can hold/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeBigUInt64LE(1n << 40n, l.kvs.find((k) => k.key === 'tokenizer.ggml.scores')!.valueAt + 4)),
    /tokenizer.ggml.scores claims \d+ elements, more than the file can hold/,
  );
  await expectRefused(t, await mutate((b, l) => void b.writeBigUInt64LE(1n << 50n, l.tensors[0]!.at)), /tensor name has an absurd length/);
});

test('unknown metadata value type', async (t) => {
  await expectRefused(t, await mutate((b, l) => void b.writeUInt32LE(77, l.kvs[1]!.typeAt)), /metadata key general.name has unknown value type 77/);
});

test('a tensor out of bounds', async (t) => {
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeBigUInt64LE(1n << 40n, l.tensors[0]!.offsetAt)),
    /tensor token_embd.weight ends past the end of the file \(offset \d+, size \d+, file size \d+\)/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeBigUInt64LE(l.tensors.at(-1)!.offset + 16n, l.tensors.at(-1)!.offsetAt)),
    /is not aligned to 32/,
  );
});

test('an unknown tensor type', async (t) => {
  await expectRefused(t, await mutate((b, l) => void b.writeUInt32LE(99, l.tensors[2]!.typeAt)), /tensor blk.0.attn_norm.weight has unknown or unsupported type 99/);
  await expectRefused(t, await mutate((b, l) => void b.writeUInt32LE(2, l.tensors[2]!.typeAt)), /unsupported type 2/);
});

test('a missing tensor', async (t) => {
  const bytes = await mutate((b, l) => {
    const up = l.tensors.find((x) => x.name === 'blk.0.ffn_up.weight')!;
    b.write('blk.0.ffn_uq.weight', up.at + 8);
  });
  await expectRefused(t, bytes, /required tensor blk.0.ffn_up.weight is missing/);
});

test('a wrong shape', async (t) => {
  const bytes = await mutate((b, l) => {
    const norm = l.tensors.find((x) => x.name === 'blk.0.ffn_sub_norm.weight')!;
    b.writeBigUInt64LE(128n, norm.neAt[0]!);
  });
  await expectRefused(t, bytes, /tensor blk.0.ffn_sub_norm.weight has shape \{128\}, expected \{256\}/);
  const dims = await mutate((b, l) => void b.writeUInt32LE(7, l.tensors[1]!.nDimsAt));
  await expectRefused(t, dims, /output_norm.weight has 7 dimensions/);
  const zero = await mutate((b, l) => void b.writeBigUInt64LE(0n, l.tensors[1]!.neAt[0]!));
  await expectRefused(t, zero, /absurd dimension 0/);
});

test('a wrong tensor type for its role', async (t) => {
  const bytes = await mutate((b, l) => {
    const q = l.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
    b.writeUInt32LE(1, q.typeAt); // F16: 128*128*2 bytes fit where the I2_S data and the next tensors are
  });
  await expectRefused(t, bytes, /tensor blk.0.attn_q.weight is F16, expected I2_S/);
});

test('a bad scale in an I2_S tensor', async (t) => {
  const src = await original;
  const l = ggufLayout(src);
  const q = l.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
  const dataStart = Math.ceil(l.headerEnd / 32) * 32;
  const copy = Buffer.from(src);
  copy.writeFloatLE(Number.NaN, dataStart + Number(q.offset) + (128 * 128) / 4);
  await expectRefused(t, copy, /tensor blk.0.attn_q.weight has an invalid scale/);
});

test('wrong architecture and bad hyper-parameters', async (t) => {
  await expectRefused(
    t,
    await mutate((b, l) => void b.write('llama3-b1.58', l.kvs[0]!.valueAt + 8)),
    /architecture 'llama3-b1.58' is not supported/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeUInt32LE(3, l.kvs.find((k) => k.key === 'bitnet-b1.58.attention.head_count')!.valueAt)),
    /embedding_length 128 is not a multiple of head_count 3/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeUInt32LE(0, l.kvs.find((k) => k.key === 'bitnet-b1.58.block_count')!.valueAt)),
    /block_count has an absurd value 0/,
  );
  await expectRefused(
    t,
    await mutate((b, l) => void b.writeUInt32LE(6, l.kvs.find((k) => k.key === 'bitnet-b1.58.block_count')!.typeAt)),
    /block_count is f32, expected an integer/,
  );
});

test('a file that is not there, and a directory', async (t) => {
  await t.throwsAsync(BitnetModel.load(join(dir, 'nope.gguf')), { message: /no such file/ });
  await t.throwsAsync(BitnetModel.load(dir), { message: /not a regular file/ });
});
