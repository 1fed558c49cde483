// The paper estimate's loop finder (bench/arm/loop-cost.ts) on assembly written the way GCC writes it:
// a probe that tail-calls its kernel, a loop over blocks, one unrolled twice, and a loop over tokens
// inside the loop over blocks. The real cross-compiled probes run in CI (npm run bench:arm).
import test from 'ava';
import { hotLoop } from '../../../bench/arm/loop-cost.js';

const sdot = { work: /^sdot\b/, perBlock: 8 };
const eight = (acc: string) => Array.from({ length: 8 }, (_, i) => `\tsdot\t${acc}.4s, v${i + 8}.16b, v${i + 16}.16b`);

const probe = (kernelBody: string[]) =>
  [
    'mca_decode:',
    '\t.cfi_startproc',
    '\tb\t_ZN12kernel.constprop.0',
    '\t.cfi_endproc',
    '\t.size\tmca_decode, .-mca_decode',
    '_ZN12kernel.constprop.0:',
    '\tmovi\tv0.4s, 0',
    ...kernelBody,
    '\taddv\ts0, v0.4s',
    '\tret',
    '\t.size\t_ZN12kernel.constprop.0, .-_ZN12kernel.constprop.0',
  ].join('\n');

test('follows the tail call and takes the loop over blocks', (t) => {
  const loop = hotLoop(probe(['.L3:', '\tldp\tq3, q2, [x0]', '\tushr\tv16.16b, v3.16b, 4', ...eight('v0'), '\tcmp\tx3, x1', '\tbne\t.L3']), 'mca_decode', sdot);
  t.is(loop.blocksPerIteration, 1);
  t.is(loop.instructions.length, 12);
  t.is(loop.instructions[0], 'ldp\tq3, q2, [x0]');
  t.is(loop.inner, undefined);
});

test('a loop unrolled twice does two blocks an iteration', (t) => {
  const loop = hotLoop(probe(['.L3:', ...eight('v0'), ...eight('v1'), '\tcbnz\tw2, .L3']), 'mca_decode', sdot);
  t.is(loop.blocksPerIteration, 2);
});

test('a loop over tokens inside the loop over blocks is timed apart, as many times as a block needs', (t) => {
  const body = [
    '.L2:',
    '\tldp\tq3, q2, [x0]',
    '\tushr\tv16.16b, v3.16b, 4',
    '\tmov\tx5, x1',
    '.L4:',
    ...eight('v0'),
    ...eight('v1'),
    '\tsubs\tw6, w6, #1',
    '\tb.ne\t.L4',
    '\tadd\tx0, x0, 32',
    '\tcmp\tx0, x3',
    '\tbne\t.L2',
  ];
  const loop = hotLoop(probe(body), 'mca_decode', { work: /^sdot\b/, perBlock: 64 });
  t.is(loop.blocksPerIteration, 1);
  t.deepEqual(loop.instructions, ['ldp\tq3, q2, [x0]', 'ushr\tv16.16b, v3.16b, 4', 'mov\tx5, x1', 'add\tx0, x0, 32', 'cmp\tx0, x3', 'bne\t.L2']);
  t.is(loop.inner?.timesPerBlock, 4);
  t.is(loop.inner?.instructions.length, 18);
});

test('a function without the work instruction, or with part of a block and no loop around it, is refused by name', (t) => {
  t.throws(() => hotLoop(probe(['.L3:', '\tadd\tx0, x0, 1', '\tbne\t.L3']), 'mca_decode', sdot), { message: /no loop with .*sdot.* in mca_decode/ });
  t.throws(() => hotLoop(probe(['.L3:', ...eight('v0').slice(0, 3), '\tbne\t.L3']), 'mca_decode', sdot), { message: /not a whole number of blocks/ });
  t.throws(() => hotLoop(probe([]), 'mca_prefill', sdot), { message: /mca_prefill is not in the compiler's output/ });
});

test('32-bit ARM: a tail call through the PLT and NEON mnemonics with a type suffix', (t) => {
  const asm = [
    'mca_decode:',
    '\t@ args = 4, pretend = 0, frame = 0',
    '\tb\tkernel32(PLT)',
    '\t.size\tmca_decode, .-mca_decode',
    'kernel32:',
    '.L9:',
    ...Array.from({ length: 16 }, (_, i) => `\tvmlal.s8\tq${i % 8}, d${i}, d${i + 1}`),
    '\tbhi\t.L9',
    '\tbx\tlr',
    '\t.size\tkernel32, .-kernel32',
  ].join('\n');
  t.is(hotLoop(asm, 'mca_decode', { work: /^(vmlal|vmull)\.s8\b/, perBlock: 16 }).blocksPerIteration, 1);
});
