import test from 'ava';
import { EnergyMeter } from '../../daemon/power/energy.js';

test('each reading counts for the time since the one before; the last is carried forward between readings', (t) => {
  let now = 0;
  const meter = new EnergyMeter(() => now);
  now = 500;
  meter.add(4); // 4 W over the first 0.5 s
  t.is(meter.total(), 2);
  now = 750;
  t.is(meter.total(), 3, 'a request ending between readings: the last reading carried forward');
  now = 1500;
  meter.add(null); // no reading: the interval is not counted
  now = 2500;
  meter.add(10);
  t.is(meter.total(), 2 + 10);
});
