// What a reload applies and what only a restart does: one list, the running values kept.
import test from 'ava';
import { loadConfig } from '../../daemon/config/load.js';
import { applyReload, RELOADABLE, restartOnlyChanges } from '../../daemon/config/reload.js';

const load = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;

test('a reload applies the reloadable settings, keeps the others and warns about them at every reload', (t) => {
  const running = load({});
  const next = load({
    'cache.slots': running.cache.slots + 1,
    'mqtt.base_topic': 'elsewhere',
    'queue.max': running.queue.max + 5,
    'power.interval_ms': running.power.interval_ms + 1,
    'power.budget_watts': 7,
    'log.level': 'debug',
  });
  t.deepEqual(restartOnlyChanges(running, next).sort(), ['cache.slots', 'mqtt.base_topic', 'power.interval_ms']);
  const applied = applyReload(running, next);
  t.is(applied.queue.max, next.queue.max, 'a live setting is applied');
  t.is(applied.log.level, 'debug');
  t.is(applied.power.budget_watts, 7, 'the budget in power is live');
  t.deepEqual(applied.cache, running.cache, 'cache waits for a restart');
  t.deepEqual(applied.mqtt, running.mqtt);
  t.is(applied.power.interval_ms, running.power.interval_ms);
  t.deepEqual(restartOnlyChanges(applied, next).sort(), ['cache.slots', 'mqtt.base_topic', 'power.interval_ms'], 'a second SIGHUP still says so');
  t.deepEqual(restartOnlyChanges(running, load({})), [], 'nothing changed, nothing to say');
});

test('every reloadable key names a setting', (t) => {
  const config = load({});
  for (const key of RELOADABLE) {
    const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
    t.not(value, undefined, key);
  }
});
