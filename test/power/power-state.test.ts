import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPowerOverrides, savePowerOverrides } from '../../daemon/power/power-state.js';

test('saved limits round-trip, a missing file is none, a broken one is an error naming the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-state-'));
  const path = join(dir, 'sub', 'power.json');
  t.deepEqual(loadPowerOverrides(path), {});
  savePowerOverrides(path, { budget_watts: 4.5, max_temp_c: null });
  t.deepEqual(loadPowerOverrides(path), { budget_watts: 4.5, max_temp_c: null });
  t.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { budget_watts: 4.5, max_temp_c: null });
  writeFileSync(path, '{"budget_watts": ');
  t.throws(() => loadPowerOverrides(path), { message: new RegExp(`${path}: the saved power limits are not JSON.*delete the file`) });
  writeFileSync(path, '{"budget_watts": -1}');
  t.throws(() => loadPowerOverrides(path), { message: /budget_watts must be a number >= 0 or null/ });
});
