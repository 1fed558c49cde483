import test from 'ava';
import { CpuModelSource, readCpuTimes } from '../../daemon/power/cpu-model.js';
import { fakeTree } from '../helpers/fake-tree.js';

// /proc/stat: cpuN user nice system idle iowait irq softirq steal ...
const stat = (cpu0: number[], cpu1: number[]) =>
  ['cpu  0 0 0 0 0 0 0 0 0 0', `cpu0 ${cpu0.join(' ')} 0 0`, `cpu1 ${cpu1.join(' ')} 0 0`, 'intr 1 2 3'].join('\n');

test('busy time is everything but idle and iowait', (t) => {
  const tree = fakeTree();
  tree.write('proc/stat', stat([10, 1, 5, 80, 4, 0, 0, 0], [0, 0, 0, 100, 0, 0, 0, 0]));
  t.deepEqual(Object.fromEntries(readCpuTimes(tree.env)), { cpu0: { busy: 16, total: 100 }, cpu1: { busy: 0, total: 100 } });
  tree.remove();
});

test('the model: idle watts plus each core busy share times watts per core, scaled by (f/f_max)^alpha', (t) => {
  const tree = fakeTree();
  const model = new CpuModelSource(tree.env, { idleWatts: 2, wattsPerCore: 1.5, alpha: 2 });
  tree.write('proc/stat', stat([0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]));
  t.is(model.read(), null, 'one sample is not a rate');
  tree.write('proc/stat', stat([100, 0, 0, 0, 0, 0, 0, 0], [25, 0, 0, 75, 0, 0, 0, 0]));
  t.is(model.read(), 2 + 1.5 + 0.25 * 1.5, 'no cpufreq: full frequency');
  tree.write('sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq', 1200000);
  tree.write('sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq', 2400000);
  tree.write('proc/stat', stat([200, 0, 0, 0, 0, 0, 0, 0], [25, 0, 0, 175, 0, 0, 0, 0]));
  t.is(model.read(), 2 + 1.5 * 0.25, 'cpu0 busy at half frequency, cpu1 idle');
  t.false(model.measured);
  tree.remove();
});
