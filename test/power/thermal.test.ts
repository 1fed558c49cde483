import test from 'ava';
import { ThermalGuard, isThrottling, parseThrottled } from '../../daemon/power/thermal.js';
import { fakeTree } from '../helpers/fake-tree.js';

test('get_throttled: the current-state bits 0-3; the "has occurred" bits 16-19 are history, not now', (t) => {
  t.deepEqual(parseThrottled('throttled=0x50005\n'), { underVoltage: true, frequencyCapped: false, throttled: true, softTempLimit: false });
  t.deepEqual(parseThrottled('throttled=0x50000'), { underVoltage: false, frequencyCapped: false, throttled: false, softTempLimit: false });
  t.false(isThrottling(parseThrottled('throttled=0x50000')));
  t.true(isThrottling(parseThrottled('throttled=0x8')), 'the soft temperature limit');
  t.is(parseThrottled('error=1 error_msg="Command not registered"'), null);
});

test('the hottest thermal zone in °C, sensor faults ignored; vcgencmd first, rpi_volt without it, else nothing', async (t) => {
  const tree = fakeTree();
  let guard = await ThermalGuard.create(tree.env);
  t.deepEqual(guard.read(), { tempC: null, throttle: null }, 'no zone, no report: this VM');
  tree.write('sys/class/thermal/thermal_zone0/temp', 47200);
  tree.write('sys/class/thermal/thermal_zone1/temp', 51850);
  tree.write('sys/class/thermal/thermal_zone2/temp', -274000); // a broken sensor
  tree.write('sys/class/hwmon/hwmon3/name', 'rpi_volt');
  tree.write('sys/class/hwmon/hwmon3/in0_lcrit_alarm', 1);
  guard = await ThermalGuard.create(tree.env);
  t.deepEqual(guard.read(), { tempC: 51.85, throttle: { underVoltage: true, frequencyCapped: false, throttled: false, softTempLimit: false } });
  t.regex(guard.describe, /thermal_zone0, thermal_zone1.*hwmon3 rpi_volt/);
  tree.onRun((cmd, args) => {
    t.deepEqual([cmd, ...args], ['vcgencmd', 'get_throttled']);
    return 'throttled=0x4\n';
  });
  guard = await ThermalGuard.create(tree.env);
  t.true(guard.read().throttle!.throttled);
  t.regex(guard.describe, /vcgencmd get_throttled/);
  tree.remove();
});
