// The governor against a simulated plant: power = idle + watts per thread × threads × duty, read once a
// tick with ±2 % noise, on a fake clock of ticks.
import test from 'ava';
import { PowerGovernor, type GovernorLimits, type GovernorSetting } from '../../daemon/power/governor.js';
import { Random } from '../../daemon/synth/random.js';

const IDLE = 2;
const PER_THREAD = 1.5;
const plant = (s: GovernorSetting) => IDLE + PER_THREAD * s.threads * s.duty;

interface Run {
  settings: GovernorSetting[];
  watts: number[];
}

/** Runs `ticks` ticks; the first `idleTicks` with the engine idle (readings of idle power). */
function simulate(gov: PowerGovernor, ticks: number, opts: { idleTicks?: number; noise?: number; temp?: (w: number) => number; seed?: number } = {}): Run {
  const rng = new Random(opts.seed ?? 1);
  const run: Run = { settings: [], watts: [] };
  for (let i = 0; i < ticks; i++) {
    const busy = i >= (opts.idleTicks ?? 0);
    const s = gov.setting;
    const exact = busy ? plant(s) : IDLE;
    const watts = exact * (1 + (opts.noise ?? 0.02) * (2 * rng.float() - 1));
    run.watts.push(watts);
    run.settings.push(gov.update({ watts, tempC: opts.temp ? opts.temp(exact) : null, throttling: false, busy }));
  }
  return run;
}

const changes = (settings: GovernorSetting[]) => settings.filter((s, i) => i > 0 && s !== settings[i - 1]).length;
const firstSettled = (settings: GovernorSetting[], want: GovernorSetting) =>
  settings.findIndex((s, i) => settings.slice(i).every((x) => x.threads === want.threads && x.duty === want.duty));
const limits = (budgetWatts: number | null, maxTempC: number | null = null): GovernorLimits => ({ budgetWatts, maxTempC });

test('no budget and no heat: every thread, all the time', (t) => {
  const gov = new PowerGovernor(4, limits(null));
  const run = simulate(gov, 50);
  t.deepEqual(run.settings.at(-1), { threads: 4, duty: 1 });
  t.is(changes(run.settings), 0);
});

test('from four threads it settles within 12 ticks on the most threads under the budget, and stays there', (t) => {
  const gov = new PowerGovernor(4, limits(5.5)); // 2 threads draw 5 W, 3 threads 6.5 W
  const run = simulate(gov, 400, { idleTicks: 5 });
  const at = firstSettled(run.settings, { threads: 2, duty: 1 });
  t.true(at >= 0 && at - 5 <= 12, `settled at tick ${at}`);
  t.is(changes(run.settings.slice(at)), 0, 'no change once settled');
  t.true(run.watts.slice(at + 5).every((w) => w <= 5.5), 'every reading after that is within the budget');
});

test('when even one thread is over the budget, a duty cycle keeps the average under it', (t) => {
  const gov = new PowerGovernor(2, limits(2.8)); // one thread at full duty draws 3.5 W
  const run = simulate(gov, 300, { idleTicks: 5 });
  const last = run.settings.at(-1)!;
  t.is(last.threads, 1);
  t.true(last.duty < 1);
  t.true(plant(last) <= 2.8, `settled at duty ${last.duty}: ${plant(last)} W`);
  t.true(plant(last) >= 2.8 - PER_THREAD * 0.15, 'and on the highest duty that fits, not the floor');
  t.true(firstSettled(run.settings, last) - 5 <= 15);
});

test('a raised budget brings the threads back, a lowered one takes them away', (t) => {
  const gov = new PowerGovernor(4, limits(2.8));
  simulate(gov, 100, { idleTicks: 5 });
  t.is(gov.setting.threads, 1);
  gov.setLimits(limits(7)); // 3 threads (6.5 W) fit under 7 × 0.95, 4 (8 W) do not
  const up = simulate(gov, 100, { seed: 2 });
  t.deepEqual(up.settings.at(-1), { threads: 3, duty: 1 });
  t.true(firstSettled(up.settings, { threads: 3, duty: 1 }) <= 40, 'recovered within 40 ticks');
  t.true(up.watts.every((w) => w <= 7 * 1.03), 'without overshooting the new budget');
  gov.setLimits(limits(4));
  const down = simulate(gov, 60, { seed: 3 });
  t.deepEqual(down.settings.at(-1), { threads: 1, duty: 1 });
  t.true(firstSettled(down.settings, { threads: 1, duty: 1 }) <= 6, 'down at once: the estimate says where');
});

test('a budget right at one setting\'s power, with noise, does not make it oscillate', (t) => {
  const gov = new PowerGovernor(4, limits(5)); // 2 threads draw exactly 5 W ± 5 % noise
  const run = simulate(gov, 1000, { idleTicks: 5, noise: 0.05 });
  t.true(changes(run.settings) <= 4, `${changes(run.settings)} changes in 1000 ticks`);
  const over = run.watts.slice(50).filter((w) => w > 5 * 1.05).length;
  t.true(over <= 10, `${over} readings more than 5 % over the budget`);
});

test('too hot: it steps down below max_temp_c, and a rung that ran hot is retried ever more rarely', (t) => {
  const temp = (watts: number) => 30 + 6 * watts; // 2 threads: 60 °C, 1 thread: 51 °C
  const gov = new PowerGovernor(4, limits(null, 60));
  const run = simulate(gov, 1200, { temp });
  const hot = run.settings.filter((s) => temp(plant(s)) >= 60).length;
  t.true(hot <= 40, `${hot} of 1200 ticks at a setting that runs at or above 60 °C`);
  t.true(changes(run.settings.slice(100)) <= 8, `${changes(run.settings.slice(100))} changes after the first 100 ticks`);
  t.deepEqual(run.settings.at(-1), { threads: 1, duty: 1 });
});

test('the firmware throttling steps it down even under the budget; idle ticks change nothing', (t) => {
  const gov = new PowerGovernor(4, limits(100));
  for (let i = 0; i < 20; i++) gov.update({ watts: IDLE, tempC: 50, throttling: false, busy: false });
  t.deepEqual(gov.setting, { threads: 4, duty: 1 });
  for (let i = 0; i < 12; i++) gov.update({ watts: plant(gov.setting), tempC: 50, throttling: true, busy: true });
  t.true(gov.setting.threads < 4, `${gov.setting.threads} threads after 12 throttled ticks`);
});

test('a reload with fewer threads keeps the load that fits', (t) => {
  const gov = new PowerGovernor(4, limits(null));
  gov.setMaxThreads(2);
  t.deepEqual(gov.setting, { threads: 2, duty: 1 });
});
