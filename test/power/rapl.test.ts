import test from 'ava';
import { RaplSource, findRaplZones } from '../../daemon/power/rapl.js';
import { fakeTree } from '../helpers/fake-tree.js';

const ZONE = 'sys/class/powercap/intel-rapl:0';

test('package zones with a readable counter are found; subzones and other names are not', (t) => {
  const tree = fakeTree();
  tree.write(`${ZONE}/name`, 'package-0');
  tree.write(`${ZONE}/energy_uj`, 1000);
  tree.write('sys/class/powercap/intel-rapl:0:0/name', 'core');
  tree.write('sys/class/powercap/intel-rapl:0:0/energy_uj', 5);
  tree.write('sys/class/powercap/intel-rapl:1/name', 'psys');
  tree.write('sys/class/powercap/intel-rapl:1/energy_uj', 5);
  t.deepEqual(findRaplZones(tree.env), ['intel-rapl:0']);
  tree.remove();
});

test('a zone whose counter cannot be read (root-only since Linux 5.10) is not a source', (t) => {
  const tree = fakeTree();
  tree.write(`${ZONE}/name`, 'package-0');
  t.deepEqual(findRaplZones(tree.env), []);
  tree.remove();
});

test('power is the energy counter over time, and a wrapped counter adds its range', (t) => {
  const tree = fakeTree();
  tree.write(`${ZONE}/name`, 'package-0');
  tree.write(`${ZONE}/max_energy_range_uj`, 262143328850);
  tree.write(`${ZONE}/energy_uj`, 262143328850 - 2_000_000);
  const rapl = new RaplSource(tree.env, ['intel-rapl:0']);
  t.is(rapl.read(), null, 'one sample is not a rate');
  tree.advance(500);
  tree.write(`${ZONE}/energy_uj`, 262143328850 - 1_000_000); // 1 J in 0.5 s
  t.is(rapl.read(), 2);
  tree.advance(1000);
  tree.write(`${ZONE}/energy_uj`, 4_000_000); // wrapped: 1 J up to the range, then 4 J
  t.is(rapl.read(), 5);
  t.true(rapl.measured);
  t.regex(rapl.describe, /intel-rapl:0 \(package-0\)/);
  tree.remove();
});
