import test from 'ava';
import { findIna2xx, findIna3221 } from '../../daemon/power/hwmon-ina.js';
import { fakeTree } from '../helpers/fake-tree.js';

test('an INA226 is found by its name, not its hwmon number, and reports power1_input in µW', (t) => {
  const tree = fakeTree();
  tree.write('sys/class/hwmon/hwmon0/name', 'cpu_thermal');
  tree.write('sys/class/hwmon/hwmon3/name', 'ina226');
  tree.write('sys/class/hwmon/hwmon3/power1_input', 4_250_000);
  const ina = findIna2xx(tree.env);
  t.truthy(ina);
  t.is(ina!.describe, 'hwmon3 ina226');
  t.is(ina!.read(), 4.25);
  tree.write('sys/class/hwmon/hwmon3/power1_input', 'garbage');
  t.is(ina!.read(), null, 'an unreadable value is no reading, not NaN');
  t.is(findIna3221(tree.env), undefined);
  tree.remove();
});

test('an INA3221 sums bus mV times mA over the channels that are wired', (t) => {
  const tree = fakeTree();
  const dev = 'sys/class/hwmon/hwmon1';
  tree.write(`${dev}/name`, 'ina3221');
  tree.write(`${dev}/in1_input`, 5000);
  tree.write(`${dev}/curr1_input`, 800);
  tree.write(`${dev}/in2_input`, 3300);
  tree.write(`${dev}/curr2_input`, 100);
  const ina = findIna3221(tree.env);
  t.truthy(ina);
  t.is(ina!.describe, 'hwmon1 ina3221 channels 1, 2');
  t.is(ina!.read(), 4 + 0.33);
  t.is(findIna2xx(tree.env), undefined, 'an ina3221 has no power1_input');
  tree.remove();
});
