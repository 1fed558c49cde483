// The governor's run-time loop on a fake tree and clock, with a source the test sets.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import type { GovernorSetting } from '../../daemon/power/governor.js';
import { PowerManager } from '../../daemon/power/power-manager.js';
import type { PowerSource } from '../../daemon/power/power-source.js';
import { ThermalGuard } from '../../daemon/power/thermal.js';
import { fakeTree } from '../helpers/fake-tree.js';

const silent = winston.createLogger({ silent: true });

async function manager(watts: () => number | null, options: { budget?: number; stateFile?: string } = {}) {
  const tree = fakeTree();
  const applied: GovernorSetting[] = [];
  const source: PowerSource = { kind: 'ina2xx', measured: true, describe: 'test', read: watts };
  const stateFile = options.stateFile ?? join(mkdtempSync(join(tmpdir(), 'bitnetd-pm-')), 'power.json');
  const pm = new PowerManager({
    env: tree.env,
    source,
    thermal: await ThermalGuard.create(tree.env),
    configured: { budgetWatts: options.budget ?? 0, maxTempC: 0 },
    overrides: {},
    stateFile,
    intervalMs: 100,
    maxThreads: 4,
    apply: (s) => applied.push(s),
    log: silent,
  });
  return { pm, tree, applied, stateFile };
}

test('ticks read the source, integrate the energy and apply what the governor decides', async (t) => {
  let busyWatts = 9; // 4 threads: 1 W idle + 2 W per thread
  const { pm, tree, applied } = await manager(() => busyWatts, { budget: 5.5 });
  t.deepEqual(applied, [{ threads: 4, duty: 1 }], 'the starting setting is applied at once');
  pm.setBusy(true);
  for (let i = 0; i < 20; i++) {
    tree.advance(100);
    pm.tick();
    busyWatts = 1 + 2 * applied.at(-1)!.threads * applied.at(-1)!.duty;
  }
  t.deepEqual(applied.at(-1), { threads: 2, duty: 1 }, 'settled on the most threads under 5.5 W');
  const r = pm.report();
  t.is(r.power_w, 5);
  t.is(r.power_source, 'ina2xx');
  t.true(r.power_measured);
  t.is(r.budget_watts, 5.5);
  t.true(r.energy_j > 1 && r.energy_j < 20, `${r.energy_j} J in 2 s of 5-9 W`);
});

test('limits set at run time are saved and win over the configuration; a reload of it changes nothing then', async (t) => {
  const { pm, stateFile } = await manager(() => 3, { budget: 10 });
  let changes = 0;
  pm.on('change', () => changes++);
  t.deepEqual(pm.setLimits({ budget_watts: 4 }), { budgetWatts: 4, maxTempC: null });
  t.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { budget_watts: 4 });
  pm.setConfigured({ budgetWatts: 8, maxTempC: 70 });
  t.deepEqual(pm.limits(), { budgetWatts: 4, maxTempC: 70 }, 'the saved budget still wins; the temperature comes from the configuration');
  pm.setLimits({ budget_watts: null });
  t.is(pm.limits().budgetWatts, null, 'off at run time outranks the configured 8 W');
  t.is(changes, 3);
});

test('a state file that cannot be written: an error, and the limits stay as they were', async (t) => {
  const notADir = join(mkdtempSync(join(tmpdir(), 'bitnetd-pm-')), 'file');
  writeFileSync(notADir, '');
  const { pm } = await manager(() => 3, { budget: 10, stateFile: join(notADir, 'power.json') });
  t.throws(() => pm.setLimits({ budget_watts: 2 }));
  t.is(pm.limits().budgetWatts, 10);
});

test('a short request between two ticks still counts the tick as busy', async (t) => {
  const { pm, tree, applied } = await manager(() => 20, { budget: 5 });
  tree.advance(100);
  pm.tick(); // idle: 20 W says nothing about compute, no change
  t.is(applied.length, 1);
  pm.setBusy(true);
  pm.setBusy(false);
  for (let i = 0; i < 3; i++) {
    tree.advance(100);
    pm.tick();
    pm.setBusy(true);
    pm.setBusy(false);
  }
  t.true(applied.length > 1, 'busy ticks over the budget stepped it down');
});
