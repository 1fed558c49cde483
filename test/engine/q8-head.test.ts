// The int8 output head against the exact F16 one, with every kernel set this CPU runs: teacher-forced
// on the reference model, the logits stay within 0.02 and the top-1 token agrees wherever F16's top-1
// leads clearly. Batched and one-token evaluation give the same q8 logits.
import test from 'ava';
import { BitnetModel } from '../../daemon/engine/index.js';
import { loadAddon } from '../../daemon/engine/index.js';
import { maxAbsDiff, referenceModelPath } from '../helpers/reference.js';

const ids = [128000, 791, 6864, 315, 9822, 374, 12366, 13, 578, 6864, 315, 9624, 374, 20023, 13, 578, 6864, 315, 36684, 374];
const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);

async function logits(head: 'f16' | 'q8', kernel: string, oneByOne = false): Promise<Float32Array[]> {
  const model = await BitnetModel.load(referenceModelPath(), { threads: 2, head, kernel });
  if (model.info.head !== head) throw new Error(`asked for the ${head} head, got ${model.info.head}`);
  return model.createSession({ contextSize: 64 }).logitsFor(ids, { oneByOne });
}

for (const kernel of loadAddon().kernels) {
  test(`${kernel}: q8 logits stay within 0.02 of f16 and agree on the confident top-1`, async (t) => {
    const exact = await logits('f16', kernel);
    const q8 = await logits('q8', kernel);
    let worst = 0;
    let confident = 0;
    exact.forEach((row, p) => {
      worst = Math.max(worst, maxAbsDiff(row, q8[p]!));
      const sorted = [...row].sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! > 0.05) {
        confident++;
        t.is(argmax(q8[p]!), argmax(row), `position ${p}`);
      }
    });
    t.log(`max difference ${worst.toFixed(4)}; ${confident} confident positions`);
    t.true(worst <= 0.02, `max difference ${worst}`);
    t.true(confident > 0);
  });
}

test('q8 logits are the same batched and one token at a time', async (t) => {
  const kernel = loadAddon().kernels.at(-1)!;
  const batched = await logits('q8', kernel);
  const single = await logits('q8', kernel, true);
  batched.forEach((row, p) => t.deepEqual(row, single[p]!, `position ${p}`));
});
