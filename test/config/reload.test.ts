// What a reload applies and what only a restart does: one list, the running values kept.
import test from 'ava';
import { loadConfig } from '../../daemon/config/load.js';
import { keepRestartOnly, RESTART_ONLY, restartOnlyChanges } from '../../daemon/config/reload.js';

const load = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;

test('a reload keeps the restart-only settings and warns about them at every reload, not only the first', (t) => {
  const running = load({});
  const next = load({ 'cache.slots': running.cache.slots + 1, 'mqtt.base_topic': 'elsewhere', 'queue.max': running.queue.max + 5, 'power.interval_ms': 1234 });
  t.deepEqual(restartOnlyChanges(running, next).sort(), ['cache', 'mqtt', 'power.interval_ms']);
  const applied = keepRestartOnly(running, next);
  t.is(applied.queue.max, next.queue.max, 'a live setting is applied');
  t.deepEqual(applied.cache, running.cache, 'cache waits for a restart');
  t.deepEqual(applied.mqtt, running.mqtt);
  t.is(applied.power.interval_ms, running.power.interval_ms);
  t.is(applied.power.budget_watts, next.power.budget_watts, 'the rest of power is live');
  t.deepEqual(restartOnlyChanges(applied, next).sort(), ['cache', 'mqtt', 'power.interval_ms'], 'a second SIGHUP still says so');
});

test('every restart-only key names a setting', (t) => {
  const config = load({});
  for (const key of RESTART_ONLY) {
    const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
    t.not(value, undefined, key);
  }
});
