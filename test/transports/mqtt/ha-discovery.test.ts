// The discovery payload against Home Assistant's rules for device-based discovery: the keys it takes
// (its abbreviations, from HA core's mqtt/abbreviations.py), what each platform requires, and the
// 255-character cap on an entity's state.
import { availableParallelism } from 'node:os';
import test from 'ava';
import { answerPayload, discoveryPayload, discoveryTopic, MAX_STATE_LENGTH } from '../../../daemon/transports/mqtt/ha-discovery.js';
import { mqttTopics } from '../../../daemon/transports/mqtt/topics.js';

// HA's abbreviations for the keys a component may use here (abbreviation -> full key), and the device's
// and origin's own.
const ABBREVIATIONS: Record<string, string> = {
  p: 'platform', uniq_id: 'unique_id', stat_t: 'state_topic', cmd_t: 'command_topic', val_tpl: 'value_template',
  dev_cla: 'device_class', unit_of_meas: 'unit_of_measurement', stat_cla: 'state_class', json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template', ic: 'icon', ent_cat: 'entity_category', pl_prs: 'payload_press',
  avty: 'availability', dev: 'device', o: 'origin', cmps: 'components',
};
const FULL_KEYS = new Set(['name', 'min', 'max', 'step', 'mode', 'qos']);
const DEVICE_KEYS = new Set(['ids', 'name', 'mf', 'mdl', 'sw', 'hw', 'sn', 'cu', 'sa', 'cns', 'mdl_id']);
const ORIGIN_KEYS = new Set(['name', 'sw', 'url']);
const AVAILABILITY_KEYS = new Set(['t', 'val_tpl', 'pl_avail', 'pl_not_avail']);
const PLATFORMS = new Set(['sensor', 'number', 'text', 'button', 'event', 'binary_sensor', 'select', 'switch']);
const NEEDS_COMMAND = new Set(['number', 'text', 'button', 'select', 'switch']);

const topics = mqttTopics('bitnetd', 'kitchen_pi');
const payload = discoveryPayload('kitchen_pi', topics, 4, 'ggml-model-i2_s.gguf') as {
  dev: Record<string, unknown>;
  o: Record<string, unknown>;
  avty: Record<string, unknown>[];
  cmps: Record<string, Record<string, unknown>>;
  [k: string]: unknown;
};

test('the device topic and the top-level keys: dev with identifiers, an origin with a name, availability from the state', (t) => {
  t.is(discoveryTopic('homeassistant', 'kitchen_pi'), 'homeassistant/device/kitchen_pi/config');
  for (const key of Object.keys(payload)) t.true(key in ABBREVIATIONS || FULL_KEYS.has(key), `top-level key ${key}`);
  t.true(Array.isArray(payload.dev['ids']) && (payload.dev['ids'] as string[]).length > 0);
  for (const key of Object.keys(payload.dev)) t.true(DEVICE_KEYS.has(key), `device key ${key}`);
  t.is(typeof payload.o['name'], 'string', 'device discovery requires an origin name');
  for (const key of Object.keys(payload.o)) t.true(ORIGIN_KEYS.has(key), `origin key ${key}`);
  t.deepEqual(payload.avty.map((a) => a['t']), [topics.state]);
  for (const a of payload.avty) for (const key of Object.keys(a)) t.true(AVAILABILITY_KEYS.has(key), `availability key ${key}`);
  t.is(payload.avty[0]!['val_tpl'], '{{ value_json.state }}');
});

test('every component: a platform HA has, a unique id that is its key, only known keys, a command topic where it needs one', (t) => {
  const cmps = Object.entries(payload.cmps);
  t.true(cmps.length >= 12);
  const platforms = new Set<string>();
  for (const [key, c] of cmps) {
    t.regex(key, /^[a-zA-Z0-9_-]+$/, 'object ids are [a-zA-Z0-9_-]');
    t.is(c['uniq_id'], key);
    t.true(PLATFORMS.has(c['p'] as string), `${key}: platform ${String(c['p'])}`);
    platforms.add(c['p'] as string);
    for (const k of Object.keys(c)) {
      t.true(k in ABBREVIATIONS || FULL_KEYS.has(k), `${key}: key ${k}`);
      t.false(Object.values(ABBREVIATIONS).includes(k), `${key}: ${k} is written out where HA has an abbreviation`);
    }
    if (NEEDS_COMMAND.has(c['p'] as string)) t.is(typeof c['cmd_t'], 'string', `${key} needs a command topic`);
    if (c['p'] === 'sensor') t.is(typeof c['stat_t'], 'string', `${key} needs a state topic`);
  }
  t.deepEqual([...platforms].sort(), ['button', 'number', 'sensor', 'text']);
  const byName = Object.fromEntries(cmps.map(([, c]) => [c['name'] as string, c]));
  t.like(byName['Power'], { dev_cla: 'power', unit_of_meas: 'W', stat_t: topics.state });
  t.like(byName['Power budget'], { p: 'number', cmd_t: topics.powerSet, min: 0 });
  t.like(byName['Thread cap'], { p: 'number', cmd_t: topics.threadsSet, min: 1, max: 4 });
  t.like(byName['Prompt'], { p: 'text', cmd_t: topics.prompt, max: MAX_STATE_LENGTH });
  t.like(byName['Answer'], { p: 'sensor', stat_t: topics.answer, json_attr_t: topics.answer });
  t.like(byName['Cancel answer'], { p: 'button', cmd_t: topics.cancel });
});

// HA's number: max must be above min (mqtt/number.py validate_config), and a state outside [min, max]
// is refused ("Invalid value").
test('the thread cap slider, for every model.threads from 1 to the cores and every cap under it: a range HA takes, holding the state', (t) => {
  const cores = Math.max(4, availableParallelism());
  for (let limit = 1; limit <= cores; limit++) {
    const cap = (discoveryPayload('pi', topics, limit, 'm.gguf') as typeof payload).cmps['bitnetd_pi_thread_cap']!;
    const { min, max, step } = cap as { min: number; max: number; step: number };
    t.true(min < max, `model.threads ${limit}: min ${min} < max ${max}`);
    t.true(Number.isInteger((max - min) / step));
    // The state's max_threads is the cap in force, 1..limit: always inside the range, and the range does
    // not follow the cap (a cap of 2 on 4 threads keeps the slider at 1-4).
    for (let inForce = 1; inForce <= limit; inForce++) t.true(inForce >= min && inForce <= max, `cap ${inForce} of ${limit}`);
    t.is(max, Math.max(2, limit));
  }
});

test('an answer longer than 255 characters: its state is cut to 255 with an ellipsis, the whole text in the attributes', (t) => {
  const long = 'The kitchen light is on. '.repeat(40);
  const a = answerPayload('Is the light on?', long, 123) as { state: string; text: string };
  t.is(a.state.length, MAX_STATE_LENGTH);
  t.true(a.state.endsWith('…'));
  t.is(a.text, long);
  t.is((answerPayload('q', 'short\nanswer', 2) as { state: string }).state, 'short answer');
});
