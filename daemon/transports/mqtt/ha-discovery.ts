// Home Assistant MQTT discovery, device-based: one retained payload on
// <prefix>/device/<node_id>/config that makes this board a device with its entities (sensors for its
// state, speed, power, energy and temperature; numbers for the power budget and the thread cap; a text
// entity to ask, a sensor with the answer, a cancel button). Availability comes from the state topic.
// Keys use HA's documented abbreviations (its mqtt/abbreviations.py), as Zigbee2MQTT's payloads do.
import { VERSION } from '../../version.js';

export interface DiscoveryTopics {
  state: string;
  answer: string;
  prompt: string;
  cancel: string;
  powerSet: string;
  threadsSet: string;
}

/** HA caps an entity's state at 255 characters; a longer one becomes "unknown". */
export const MAX_STATE_LENGTH = 255;

export function discoveryTopic(prefix: string, nodeId: string): string {
  return `${prefix}/device/${nodeId}/config`;
}

/** The thread cap slider's range: 1 to the configured threads (model.threads), which the cap cannot
 * exceed. Not the cap in force: a cap of 2 would shrink the slider to 1-2 and keep it there. HA rejects a
 * number whose max is not above its min, so one configured thread still gets a 1-2 slider (2 is then
 * clamped to 1, as any cap above model.threads is). */
function threadCapRange(threadLimit: number): { min: number; max: number } {
  return { min: 1, max: Math.max(2, threadLimit) };
}

/** The components of the device, keyed by their unique ids. */
function components(nodeId: string, t: DiscoveryTopics, threadLimit: number): Record<string, Record<string, unknown>> {
  const id = (key: string) => `bitnetd_${nodeId}_${key}`;
  const fromState = (key: string, extra: Record<string, unknown>) => ({ stat_t: t.state, val_tpl: `{{ value_json.${key} }}`, ...extra });
  const list: [string, Record<string, unknown>][] = [
    ['state', { p: 'sensor', name: 'State', ic: 'mdi:robot', stat_t: t.state, val_tpl: "{{ 'busy' if value_json.busy else 'idle' }}" }],
    ['speed', { p: 'sensor', name: 'Speed', ic: 'mdi:speedometer', unit_of_meas: 'tok/s', stat_cla: 'measurement', ...fromState('tokens_per_s', {}) }],
    ['queue', { p: 'sensor', name: 'Queue', ic: 'mdi:tray-full', stat_cla: 'measurement', ...fromState('queued', {}) }],
    ['threads', { p: 'sensor', name: 'Threads', ic: 'mdi:cpu-64-bit', ent_cat: 'diagnostic', ...fromState('threads', {}) }],
    ['power', { p: 'sensor', name: 'Power', dev_cla: 'power', unit_of_meas: 'W', stat_cla: 'measurement', ...fromState('power_w', {}) }],
    // Only while online: the offline state's energy is the last one known, which a will written at
    // connect time would report lower than what came since, and HA would count a meter reset. An empty
    // value keeps the sensor's last one (HA ignores an empty state for a numeric sensor).
    ['energy', { p: 'sensor', name: 'Energy', dev_cla: 'energy', unit_of_meas: 'kWh', stat_cla: 'total_increasing', stat_t: t.state, val_tpl: "{% if value_json.state == 'online' %}{{ (value_json.energy_j / 3600000) | round(6) }}{% endif %}" }],
    ['joules_per_token', { p: 'sensor', name: 'Energy per token', ic: 'mdi:lightning-bolt', unit_of_meas: 'J', stat_cla: 'measurement', ...fromState('joules_per_token', {}) }],
    ['temperature', { p: 'sensor', name: 'Temperature', dev_cla: 'temperature', unit_of_meas: '°C', stat_cla: 'measurement', ent_cat: 'diagnostic', ...fromState('temperature_c', {}) }],
    ['budget', { p: 'number', name: 'Power budget', ic: 'mdi:flash', unit_of_meas: 'W', min: 0, max: 100, step: 0.5, mode: 'box', cmd_t: t.powerSet, stat_t: t.state, val_tpl: '{{ value_json.budget_watts or 0 }}' }],
    ['thread_cap', { p: 'number', name: 'Thread cap', ic: 'mdi:cpu-64-bit', ...threadCapRange(threadLimit), step: 1, mode: 'slider', cmd_t: t.threadsSet, stat_t: t.state, val_tpl: '{{ value_json.max_threads }}' }],
    ['prompt', { p: 'text', name: 'Prompt', ic: 'mdi:chat-question', max: MAX_STATE_LENGTH, cmd_t: t.prompt }],
    ['answer', { p: 'sensor', name: 'Answer', ic: 'mdi:chat', stat_t: t.answer, val_tpl: '{{ value_json.state }}', json_attr_t: t.answer, json_attr_tpl: '{{ {"text": value_json.text, "prompt": value_json.prompt, "tokens": value_json.tokens} | tojson }}' }],
    ['cancel', { p: 'button', name: 'Cancel answer', ic: 'mdi:stop', cmd_t: t.cancel, pl_prs: 'cancel' }],
  ];
  return Object.fromEntries(list.map(([key, c]) => [id(key), { ...c, uniq_id: id(key) }]));
}

/** The device discovery payload; threadLimit is the configured thread count (model.threads). */
export function discoveryPayload(nodeId: string, t: DiscoveryTopics, threadLimit: number, model: string): Record<string, unknown> {
  return {
    dev: { ids: [`bitnetd_${nodeId}`], name: `bitnetd ${nodeId}`, mf: 'bitnetd', mdl: model, sw: VERSION },
    o: { name: 'bitnetd', sw: VERSION },
    avty: [{ t: t.state, val_tpl: '{{ value_json.state }}', pl_avail: 'online', pl_not_avail: 'offline' }],
    qos: 1,
    cmps: components(nodeId, t, threadLimit),
  };
}

/** What the answer topic holds: the state HA shows (at most 255 characters), the whole text beside it. */
export function answerPayload(prompt: string, text: string, tokens: number): Record<string, unknown> {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const state = oneLine.length > MAX_STATE_LENGTH ? oneLine.slice(0, MAX_STATE_LENGTH - 1) + '…' : oneLine;
  return { state, text, prompt, tokens, at: new Date().toISOString() };
}
