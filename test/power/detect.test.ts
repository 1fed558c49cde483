import test from 'ava';
import { detectPowerSource } from '../../daemon/power/detect.js';
import { fakeTree } from '../helpers/fake-tree.js';

const MODEL = { idleWatts: 2, wattsPerCore: 1, alpha: 2 };

test('detection order: RAPL, INA2xx, INA3221, Pi 5 PMIC, then the model', async (t) => {
  const tree = fakeTree();
  t.is((await detectPowerSource(tree.env, MODEL)).kind, 'model', 'nothing readable: the model (as on this VM)');
  tree.onRun(() => '  VDD_CORE_A current(7)=2.0A\n  VDD_CORE_V volt(15)=0.8V\n');
  t.is((await detectPowerSource(tree.env, MODEL)).kind, 'pi5-pmic');
  tree.write('sys/class/hwmon/hwmon2/name', 'ina3221');
  tree.write('sys/class/hwmon/hwmon2/in1_input', 5000);
  tree.write('sys/class/hwmon/hwmon2/curr1_input', 500);
  t.is((await detectPowerSource(tree.env, MODEL)).kind, 'ina3221');
  tree.write('sys/class/hwmon/hwmon5/name', 'ina219');
  tree.write('sys/class/hwmon/hwmon5/power1_input', 1000000);
  t.is((await detectPowerSource(tree.env, MODEL)).kind, 'ina2xx');
  tree.write('sys/class/powercap/intel-rapl:0/name', 'package-0');
  tree.write('sys/class/powercap/intel-rapl:0/energy_uj', 1);
  t.is((await detectPowerSource(tree.env, MODEL)).kind, 'rapl');
  tree.remove();
});

test('a forced source is used even when a better one exists, and a missing one is an actionable error', async (t) => {
  const tree = fakeTree();
  tree.write('sys/class/powercap/intel-rapl:0/name', 'package-0');
  tree.write('sys/class/powercap/intel-rapl:0/energy_uj', 1);
  t.is((await detectPowerSource(tree.env, MODEL, 'model')).kind, 'model');
  await t.throwsAsync(() => detectPowerSource(tree.env, MODEL, 'pi5-pmic'), { message: /"pi5-pmic" is not available here: it needs .*group video/ });
  tree.remove();
});
