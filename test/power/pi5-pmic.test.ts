import test from 'ava';
import { Pi5PmicSource, parsePmicAdc } from '../../daemon/power/pi5-pmic.js';
import { fakeTree } from '../helpers/fake-tree.js';

// `vcgencmd pmic_read_adc` on a Pi 5 with four busy cores (spec platform.md §6.2), one rail per line,
// currents first; a current's (N) index differs from its voltage's.
const CAPTURE = [
  ' 3V7_WL_SW_A current(0)=0.09368929A',
  '   3V3_SYS_A current(1)=0.08783370A',
  '   1V8_SYS_A current(2)=0.18054710A',
  '  DDR_VDD2_A current(3)=0.22543980A',
  '  DDR_VDDQ_A current(4)=0.06666720A',
  '   1V1_SYS_A current(5)=0.17566740A',
  '    0V8_SW_A current(6)=0.37670900A',
  '  VDD_CORE_A current(7)=6.22421000A',
  ' 3V7_WL_SW_V volt(8)=3.69977600V',
  '   3V3_SYS_V volt(9)=3.31003300V',
  '   1V8_SYS_V volt(10)=1.80512600V',
  '  DDR_VDD2_V volt(11)=1.10476100V',
  '  DDR_VDDQ_V volt(12)=0.60146460V',
  '   1V1_SYS_V volt(13)=1.11025500V',
  '    0V8_SW_V volt(14)=0.80146440V',
  '  VDD_CORE_V volt(15)=0.86173300V',
  '     EXT5V_V volt(24)=5.09066000V',
  '      BATT_V volt(25)=0.00000000V',
].join('\n');

test('rails are paired by name; SoC power is VDD_CORE amps times volts', (t) => {
  const rails = parsePmicAdc(CAPTURE);
  t.deepEqual(rails.get('VDD_CORE'), { amps: 6.22421, volts: 0.861733 });
  t.deepEqual(rails.get('EXT5V'), { volts: 5.09066 }, 'EXT5V has a voltage but no current');
  t.is(Pi5PmicSource.coreWatts(CAPTURE)!.toFixed(3), (6.22421 * 0.861733).toFixed(3));
});

test('NUL-separated output and nan values are tolerated', (t) => {
  const rails = parsePmicAdc(CAPTURE.replaceAll('\n', '\0').replace('VDD_CORE_V volt(15)=0.86173300V', 'VDD_CORE_V volt(15)=nanV'));
  t.deepEqual(rails.get('VDD_CORE'), { amps: 6.22421 });
  t.is(rails.get('DDR_VDD2')?.volts, 1.104761);
});

test('found only where vcgencmd answers with VDD_CORE; sampled in the background at most 5 times a second', async (t) => {
  const tree = fakeTree();
  t.is(await Pi5PmicSource.find(tree.env), undefined, 'no vcgencmd');
  tree.onRun(() => 'throttled=0x0\n');
  t.is(await Pi5PmicSource.find(tree.env), undefined, 'a Pi 4 has no PMIC rails');
  let runs = 0;
  let text = CAPTURE;
  tree.onRun((cmd, args) => {
    t.deepEqual([cmd, ...args], ['vcgencmd', 'pmic_read_adc']);
    runs++;
    return text;
  });
  const pmic = (await Pi5PmicSource.find(tree.env))!;
  t.truthy(pmic);
  t.is(pmic.read()!.toFixed(3), (6.22421 * 0.861733).toFixed(3), 'the sample taken when it was found');
  runs = 0;
  text = CAPTURE.replace('VDD_CORE_A current(7)=6.22421000A', 'VDD_CORE_A current(7)=1.00000000A');
  tree.advance(100);
  pmic.read();
  await pmic.settled();
  t.is(runs, 0, 'a read within 200 ms of the last sample starts no process');
  tree.advance(150);
  t.is(pmic.read()!.toFixed(3), (6.22421 * 0.861733).toFixed(3), 'a read never waits: it sees the last sample while a new one runs');
  await pmic.settled();
  t.is(runs, 1);
  t.is(pmic.read(), 0.861733, 'the new sample once it has landed');
  tree.onRun(() => {
    throw new Error('vcgencmd: permission denied');
  });
  tree.advance(300);
  pmic.read();
  await pmic.settled();
  t.is(pmic.read(), null, 'a failing vcgencmd is no reading, not a crash');
  tree.remove();
});
