import test from 'ava';
import { StopStrings } from '../../daemon/engine/stop-strings.js';

test('text that may start a stop string is held back, then released', (t) => {
  const s = new StopStrings(['</end>']);
  t.deepEqual(s.push('hello </'), { emit: 'hello ', stopped: false });
  t.deepEqual(s.push('em>'), { emit: '</em>', stopped: false });
  t.deepEqual(s.push(' x </en'), { emit: ' x ', stopped: false });
  t.deepEqual(s.push('d> more'), { emit: '', stopped: true });
});

test('the earliest of several stop strings wins, and flush returns the tail', (t) => {
  const s = new StopStrings(['World', 'lo']);
  t.deepEqual(s.push('Hello World'), { emit: 'Hel', stopped: true });
  const u = new StopStrings(['xyz']);
  t.deepEqual(u.push('abcx'), { emit: 'abc', stopped: false });
  t.is(u.flush(), 'x');
});

test('no stop strings: everything passes straight through', (t) => {
  const s = new StopStrings([]);
  t.deepEqual(s.push('</'), { emit: '</', stopped: false });
});
