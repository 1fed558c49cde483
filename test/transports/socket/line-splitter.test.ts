// NDJSON framing: lines split across chunks, several in one chunk, and over-long lines refused.
import test from 'ava';
import { LineSplitter } from '../../../daemon/transports/socket/line-splitter.js';

function run(max: number, chunks: string[]) {
  const out: string[] = [];
  const s = new LineSplitter(max, { line: (l) => out.push(l), tooLong: (n) => out.push(`<too long: ${n}>`) });
  for (const c of chunks) s.push(Buffer.from(c));
  return out;
}

test('lines are reassembled across chunks and split within one', (t) => {
  t.deepEqual(run(100, ['{"a"', ':1}\n{"b":2}\n{"c"', ':3}\r\n']), ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('blank lines are skipped', (t) => {
  t.deepEqual(run(100, ['\n\n  \nx\n']), ['x']);
});

test('a line over the limit is refused once and the next line is read normally', (t) => {
  t.deepEqual(run(10, ['12345', '678901234', '5\nok\n']), ['<too long: 15>', 'ok']);
  t.deepEqual(run(4, ['abcd\nabcde\n']), ['abcd', '<too long: 5>']);
});

test('a multi-byte character split across chunks survives', (t) => {
  const bytes = Buffer.from('héllo\n');
  const out: string[] = [];
  const s = new LineSplitter(100, { line: (l) => out.push(l), tooLong: () => {} });
  s.push(bytes.subarray(0, 2));
  s.push(bytes.subarray(2));
  t.deepEqual(out, ['héllo']);
});
