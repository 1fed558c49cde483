// The typed-array table of BPE merges: lookups, first-rank-wins, and a table filled to its load limit.
import test from 'ava';
import { MergeTable } from '../../../daemon/engine/tokenizer/merge-table.js';
import { Random } from '../../../daemon/synth/random.js';

test('a pair finds its rank and merged id; other pairs and the reversed pair find nothing', (t) => {
  const table = new MergeTable(4);
  table.add(3, 7, 0, 100);
  table.add(7, 3, 1, 101);
  const slot = table.find(3, 7);
  t.true(slot >= 0);
  t.is(table.rank(slot), 0);
  t.is(table.result(slot), 100);
  t.is(table.result(table.find(7, 3)), 101);
  t.is(table.find(3, 8), -1);
  t.is(table.find(0, 0), -1);
});

test('the first merge of a pair wins (the lowest rank, as in the file order)', (t) => {
  const table = new MergeTable(2);
  table.add(1, 2, 5, 10);
  table.add(1, 2, 9, 11);
  t.is(table.rank(table.find(1, 2)), 5);
  t.is(table.result(table.find(1, 2)), 10);
});

test('300,000 random pairs, as many as Llama 3 has merges, all found again with their values', (t) => {
  const rng = new Random(7);
  const n = 300_000;
  const table = new MergeTable(n);
  const pairs = new Map<string, [number, number, number]>();
  while (pairs.size < n) {
    const left = rng.below(128_256);
    const right = rng.below(128_256);
    const key = `${left} ${right}`;
    if (!pairs.has(key)) pairs.set(key, [left, right, pairs.size]);
  }
  for (const [left, right, rank] of pairs.values()) table.add(left, right, rank, rank + 1);
  let wrong = 0;
  for (const [left, right, rank] of pairs.values()) {
    const slot = table.find(left, right);
    if (slot < 0 || table.rank(slot) !== rank || table.result(slot) !== rank + 1) wrong++;
  }
  t.is(wrong, 0);
  let absent = 0;
  for (let i = 0; i < 1000; i++) {
    const left = 200_000 + rng.below(1000); // outside the ids used above
    if (table.find(left, rng.below(128_256)) === -1) absent++;
  }
  t.is(absent, 1000);
});
