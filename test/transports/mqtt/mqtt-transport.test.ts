// MQTT against a real mosquitto and real daemon processes on a synthetic model.
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Daemon } from '../../helpers/daemon.js';
import { Broker, freePort } from '../../helpers/mosquitto.js';
import { MqttRecorder } from '../../helpers/mqtt-client.js';
import { syntheticModel } from '../../helpers/models.js';
import { CLI } from '../../helpers/paths.js';
import type { DoneEvent, ErrorEvent, TokenEvent } from '../../../daemon/protocol.js';
import { discoveryPayload } from '../../../daemon/transports/mqtt/ha-discovery.js';
import { mqttTopics } from '../../../daemon/transports/mqtt/topics.js';

const execFileAsync = promisify(execFile);
const micro = () => syntheticModel('micro', 'official');
/** For requests that must still be running when the test acts: seconds of tokens even on a fast machine. */
const tiny = () => syntheticModel('tiny', 'official');
const cleanups: (() => Promise<unknown>)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function broker(options: Parameters<typeof Broker.start>[0] = {}): Promise<Broker> {
  const b = await Broker.start(options);
  cleanups.push(() => b.stop());
  return b;
}
/** A daemon on the broker, subscribed (unless its credentials are meant to fail). */
async function daemon(url: string, mqtt: Record<string, unknown> = {}, more: Record<string, unknown> = {}, subscribed = true, model = micro): Promise<Daemon> {
  const d = await Daemon.start({ model: await model(), config: { mqtt: { url, reconnect_min_ms: 100, reconnect_max_ms: 400, ...mqtt }, ...more } });
  cleanups.push(() => d.stop());
  if (subscribed) await d.waitForLog((l) => l.message === 'mqtt: subscribed');
  return d;
}
async function recorder(url: string, options: Parameters<typeof MqttRecorder.connect>[1] = {}): Promise<MqttRecorder> {
  const r = await MqttRecorder.connect(url, options);
  cleanups.push(() => r.close());
  return r;
}
const tokensOf = (list: { event: unknown }[]) => list.map((r) => r.event as TokenEvent).filter((e) => e.type === 'token');

test('MQTT 5: answers on the Response Topic with the Correlation Data echoed, streamed in order', async (t) => {
  const b = await broker();
  const d = await daemon(b.url);
  const r = await recorder(b.url);
  await r.client.subscribeAsync('replies/kitchen', { qos: 1 });
  const correlation = Buffer.from([0xde, 0xad, 0x00, 0x01]);
  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'q1', prompt: 'Is the door locked?', max_tokens: 8, stream: true }), {
    qos: 1,
    properties: { responseTopic: 'replies/kitchen', correlationData: correlation },
  });
  const done = await r.final('replies/kitchen');
  const all = r.on('replies/kitchen');
  t.is(done.event.type, 'done');
  for (const m of all) {
    t.deepEqual(m.packet.properties?.correlationData, correlation, 'every message carries the correlation data');
    t.is(m.packet.properties?.contentType, 'application/json');
    t.deepEqual(m.packet.properties?.userProperties, { node_id: d.nodeId });
    t.is(m.packet.qos, 1, 'chunks and the final message share one QoS');
    t.is(m.event.id, 'q1');
  }
  const chunks = tokensOf(all);
  t.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => i));
  t.is(all.at(-1), done, 'done comes last');
  const final = done.event as DoneEvent;
  t.is(chunks.map((c) => c.text).join(''), final.text);
  t.is(final.generated_tokens, 8);
  t.is(final.stop_reason, 'length');
  for (const key of ['prompt_tokens', 'cached_tokens', 'prefill_ms', 'decode_ms', 'prefill_tokens_per_s', 'decode_tokens_per_s'] as const) {
    t.is(typeof final[key], 'number', key);
  }
});

test('MQTT 3.1.1 clients: reply_to and id in the payload, or the default response topic', async (t) => {
  const b = await broker();
  const d = await daemon(b.url);
  const d4 = await daemon(b.url, { protocol_version: 4 });
  const r = await recorder(b.url, { protocolVersion: 4 });
  await r.client.subscribeAsync(['legacy/answers', 'bitnetd/+/response/#'], { qos: 1 });
  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'old', prompt: 'Hi', max_tokens: 3, reply_to: 'legacy/answers' }), { qos: 1 });
  const viaReplyTo = await r.final('legacy/answers');
  t.is(viaReplyTo.event.id, 'old');
  t.is(viaReplyTo.event.type, 'done');

  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'q-7', prompt: 'Hi', max_tokens: 3 }), { qos: 1 });
  t.is((await r.final(`bitnetd/${d.nodeId}/response/q-7`)).event.type, 'done');

  // A daemon that itself speaks 3.1.1.
  await r.client.publishAsync(`bitnetd/${d4.nodeId}/request`, JSON.stringify({ id: 'v4', prompt: 'Hi', max_tokens: 3, stream: true }), { qos: 1 });
  const v4 = await r.final(`bitnetd/${d4.nodeId}/response/v4`);
  t.is(v4.event.type, 'done');
  t.true(tokensOf(r.on(`bitnetd/${d4.nodeId}/response/v4`)).length > 0);

  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, '{"id": "bad", "prompt": "hi", "top_k": -1}', { qos: 1 });
  const bad = (await r.final(`bitnetd/${d.nodeId}/response/bad`)).event as ErrorEvent;
  t.is(bad.code, 'bad_request');
  t.regex(bad.message, /top_k must be >= 0/);

  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'huge', prompt: 'x'.repeat(1_100_000) }), { qos: 1 });
  const huge = (await r.final(`bitnetd/${d.nodeId}/response/invalid`)).event as ErrorEvent;
  t.is(huge.code, 'bad_request');
  t.regex(huge.message, /over the limit of 1048576/);
});

test('retained state while online, a retained offline will on a crash, offline on a clean stop', async (t) => {
  const b = await broker();
  const d = await daemon(b.url);
  const stateTopic = `bitnetd/${d.nodeId}/state`;
  const r = await recorder(b.url);
  await r.client.subscribeAsync(stateTopic, { qos: 1 });
  const online = await r.waitFor(() => r.on(stateTopic).find((m) => m.packet.retain));
  const state = online.event as unknown as Record<string, unknown>;
  t.is(state['state'], 'online');
  t.is(state['online'], true);
  t.is(state['model'], basename(await micro()), 'the model file served');
  t.is(state['threads'], 1);
  t.is(state['busy'], false);
  t.is(typeof state['tokens_per_s'], 'number');

  // Home Assistant reads its templates' fields whatever the availability: the offline state has them all.
  const discovery = discoveryPayload(d.nodeId, mqttTopics('bitnetd', d.nodeId), 1, 'm') as { cmps: Record<string, { stat_t?: string; val_tpl?: string }> };
  const stateTemplates = Object.values(discovery.cmps).filter((c) => c.stat_t === stateTopic).map((c) => c.val_tpl ?? '');
  const templateFields = new Set(stateTemplates.join(' ').match(/value_json\.\w+/g)!.map((f) => f.slice('value_json.'.length)));
  t.true(templateFields.has('energy_j') && templateFields.has('max_threads'));
  const keepsEveryField = (offline: Record<string, unknown>, what: string) => {
    for (const key of Object.keys(state)) t.true(key in offline, `${what} has ${key}`);
    for (const key of templateFields) t.not(offline[key], undefined, `${what} has ${key}, which a template reads`);
    t.is(offline['busy'], false);
  };

  d.proc.kill('SIGKILL'); // no goodbye: the broker publishes the will
  const will = await r.waitFor(() => r.on(stateTopic).find((m) => (m.event as unknown as { online: boolean }).online === false));
  t.is((will.event as unknown as { state: string }).state, 'offline');
  keepsEveryField(will.event as unknown as Record<string, unknown>, 'the will');

  const d2 = await daemon(b.url, {}, { node_id: d.nodeId });
  await r.waitFor(() => (r.on(stateTopic).filter((m) => (m.event as unknown as { online: boolean }).online).length >= 2 ? true : undefined));
  const before = r.on(stateTopic).length;
  t.is(await d2.stop(), 0);
  const last = await r.waitFor(() => r.on(stateTopic).slice(before).find((m) => (m.event as unknown as { online: boolean }).online === false));
  t.is((last.event as unknown as { state: string }).state, 'offline');
  keepsEveryField(last.event as unknown as Record<string, unknown>, 'the offline state of a clean stop');
  const late = await recorder(b.url);
  await late.client.subscribeAsync(stateTopic, { qos: 1 });
  const retained = await late.waitFor(() => late.on(stateTopic)[0]);
  t.true(retained.packet.retain);
  t.is((retained.event as unknown as { state: string }).state, 'offline', 'a late subscriber sees offline');
});

test('two daemons on the shared subscription split the requests, each answered once', async (t) => {
  const b = await broker();
  const d1 = await daemon(b.url, { shared: true });
  const d2 = await daemon(b.url, { shared: true });
  const r = await recorder(b.url);
  await r.client.subscribeAsync('replies/shared/+', { qos: 1 });
  const n = 20;
  for (let i = 0; i < n; i++) {
    await r.client.publishAsync('bitnetd/request', JSON.stringify({ id: `s${i}`, prompt: 'Hi', max_tokens: 2 }), {
      qos: 1,
      properties: { responseTopic: `replies/shared/${i}`, correlationData: Buffer.from(String(i)) },
    });
  }
  await r.waitFor(() => (r.received.filter((m) => m.event.type === 'done').length === n ? true : undefined));
  const byNode = new Map<string, number>();
  for (const m of r.received) {
    const node = (m.packet.properties?.userProperties as { node_id: string }).node_id;
    byNode.set(node, (byNode.get(node) ?? 0) + 1);
  }
  t.deepEqual([...byNode.keys()].sort(), [d1.nodeId, d2.nodeId].sort(), 'both boards served');
  t.true([...byNode.values()].every((c) => c >= n / 4), `a fair split: ${JSON.stringify([...byNode])}`);
  t.is(new Set(r.received.map((m) => m.event.id)).size, n, 'each request answered exactly once');
  await new Promise((res) => setTimeout(res, 300));
  t.is(r.received.length, n, 'no duplicates');
});

test('the broker restarting mid-stream: the answer is completed after the reconnect', async (t) => {
  const b = await broker({ persistence: true });
  // One compute thread: on a CI machine whose two cores run another test file's daemon too, two threads
  // wait for each other at every one of a token's ~20 handoffs, and the answer crawled (39 tokens in
  // 33 s, twice seen there); this test is about the reconnect, not the thread pool.
  const d = await daemon(b.url, {}, { model: { threads: 1 } }, true, tiny);
  // A persistent session, so the broker keeps our subscription and queues answers while we are away too.
  const r = await recorder(b.url, { clean: false, clientId: `rec-${process.pid}`, properties: { sessionExpiryInterval: 300 } });
  await r.client.subscribeAsync('replies/restart', { qos: 1 });
  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'survivor', prompt: 'Tell me a story', max_tokens: 600, stream: true, seed: 1 }), {
    qos: 1,
    properties: { responseTopic: 'replies/restart' },
  });
  await r.waitFor(() => (tokensOf(r.on('replies/restart')).length >= 3 ? true : undefined));
  await b.stop('SIGTERM');
  await new Promise((res) => setTimeout(res, 300));
  await b.launch();
  // The daemon's MQTT trail, should the answer not come.
  const trail = () => t.log(d.logs.filter((l) => String(l.message).startsWith('mqtt') || l.message === 'request done'));
  const done = (await r.final('replies/restart', 60_000).catch((err: unknown) => (trail(), Promise.reject(err)))).event as DoneEvent;
  t.is(done.type, 'done');
  t.not(done.stop_reason, 'cancelled');
  const seqs = new Map(tokensOf(r.on('replies/restart')).map((e) => [e.seq, e.text]));
  t.is(seqs.size, done.seq, 'every chunk arrived (duplicates from QoS 1 counted once)');
  t.is([...Array(done.seq).keys()].map((i) => seqs.get(i)).join(''), done.text);
  await d.waitForLog((l) => l.message === 'mqtt: disconnected from the broker; reconnecting');
  t.true(d.logs.filter((l) => l.message === 'mqtt: connected').length >= 2);
});

test('a request whose message expires while it waits is dropped with an "expired" answer', async (t) => {
  const b = await broker();
  const d = await daemon(b.url, {}, {}, true, tiny);
  const r = await recorder(b.url);
  await r.client.subscribeAsync('replies/+', { qos: 1 });
  const ask = (id: string, body: object, expiry?: number) =>
    r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id, ...body }), {
      qos: 1,
      properties: { responseTopic: `replies/${id}`, ...(expiry ? { messageExpiryInterval: expiry } : {}) },
    });
  await ask('slow', { prompt: 'Tell me a long story', max_tokens: 3000, stream: true, seed: 1 });
  await r.waitFor(() => (tokensOf(r.on('replies/slow')).length >= 1 ? true : undefined));
  await ask('voice', { prompt: 'Turn off the lights', max_tokens: 4 }, 1);
  const voice = (await r.final('replies/voice')).event as ErrorEvent;
  t.is(voice.code, 'expired');
  t.falsy(r.on('replies/slow').find((m) => m.event.type === 'done'), 'it expired while the slow one was still running');
  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ cancel: 'slow' }), { qos: 1 });
  const slow = (await r.final('replies/slow')).event as DoneEvent;
  t.is(slow.stop_reason, 'cancelled');
  t.falsy(d.logs.find((l) => l.message === 'request done' && l['id'] === 'voice'), 'the expired request never ran');
});

test('authentication: the right password is served, a wrong one is refused without killing the daemon', async (t) => {
  const b = await broker({ users: { assistant: 's3cret' } });
  const good = await daemon(b.url, { username: 'assistant', password: 's3cret' });
  const bad = await daemon(b.url, { username: 'assistant', password: 'wrong' }, {}, false);
  const r = await recorder(b.url, { username: 'assistant', password: 's3cret' });
  await r.client.subscribeAsync('replies/auth', { qos: 1 });
  await r.client.publishAsync(`bitnetd/${good.nodeId}/request`, JSON.stringify({ id: 'a', prompt: 'Hi', max_tokens: 2 }), {
    qos: 1,
    properties: { responseTopic: 'replies/auth' },
  });
  t.is((await r.final('replies/auth')).event.type, 'done');
  const refused = await bad.waitForLog((l) => /^mqtt: error: .*(Not authorized|Bad User Name or Password)/i.test(l.message));
  t.is(refused.level, 'warn');
  await new Promise((res) => setTimeout(res, 1000));
  t.is(bad.proc.exitCode, null, 'still running, still retrying');
  t.false(JSON.stringify(bad.logs).includes('wrong'), 'the password is never logged');
});

test('ids and reply_to that would make an illegal or a forbidden topic are refused, and MQTT stays up', async (t) => {
  const b = await broker();
  const d = await daemon(b.url);
  const r = await recorder(b.url);
  const base = `bitnetd/${d.nodeId}`;
  await r.client.subscribeAsync([`${base}/response/#`, 'homeassistant/device/x/config', `${base}/request`], { qos: 1 });
  const illegalIds = ['a+b', 'a#', 'a/b', 'nul\u0000', 'bell\u0007', 'non\uffff', 'lone\ud800'];
  const forbiddenTargets = ['homeassistant/device/x/config', `${base}/request`, '$SYS/x'];
  for (const id of illegalIds) await r.client.publishAsync(`${base}/request`, JSON.stringify({ id, prompt: 'hi', max_tokens: 2 }), { qos: 1 });
  for (const [i, reply_to] of forbiddenTargets.entries()) {
    await r.client.publishAsync(`${base}/request`, JSON.stringify({ id: `t${i}`, prompt: 'hi', max_tokens: 2, reply_to }), { qos: 1 });
  }
  const refusals = await r.waitFor(() => {
    const list = r.on(`${base}/response/invalid`);
    return list.length === illegalIds.length ? list : undefined;
  });
  for (const m of refusals) t.like(m.event, { type: 'error', code: 'bad_request', id: null });
  t.regex((refusals[0]!.event as ErrorEvent).message, /id may not hold "\+", "#", "\/", control characters/);
  for (const i of forbiddenTargets.keys()) {
    const e = (await r.final(`${base}/response/t${i}`)).event as ErrorEvent;
    t.is(e.code, 'bad_request', forbiddenTargets[i]);
  }
  t.is(r.on('homeassistant/device/x/config').length, 0, 'nothing published into Home Assistant\'s discovery');
  t.is(r.on(`${base}/request`).length, illegalIds.length + forbiddenTargets.length, 'nothing but our requests on the request topic');
  // The connection never dropped, and a good request is still answered.
  await r.client.publishAsync(`${base}/request`, JSON.stringify({ id: 'good', prompt: 'hi', max_tokens: 2 }), { qos: 1 });
  t.is((await r.final(`${base}/response/good`)).event.type, 'done');
  t.falsy(d.logs.find((l) => l.message.startsWith('mqtt: disconnected')), 'MQTT never went down');
});

test('two boards left on the same node_id keep their connections and each says another one is there', async (t) => {
  const b = await broker();
  const first = await daemon(b.url, {}, { node_id: 'raspberrypi' });
  const second = await daemon(b.url, {}, { node_id: 'raspberrypi' });
  const twin = (d: Daemon) => d.waitForLog((l) => l.level === 'warn' && l.message.startsWith('mqtt: another bitnetd is online as node_id "raspberrypi"'));
  await Promise.all([twin(first), twin(second)]);
  await new Promise((res) => setTimeout(res, 2000));
  for (const d of [first, second]) {
    t.is(d.logs.filter((l) => l.message === 'mqtt: connected').length, 1, 'connected once: nobody took its connection over');
    t.falsy(d.logs.find((l) => l.message.startsWith('mqtt: disconnected')));
  }
});

test('a password written into mqtt.url is served and never logged, at debug level either', async (t) => {
  const b = await broker({ users: { assistant: 'url-s3cret' } });
  const d = await daemon(`mqtt://assistant:url-s3cret@127.0.0.1:${b.port}`, {}, { log: { level: 'debug' } });
  const r = await recorder(b.url, { username: 'assistant', password: 'url-s3cret' });
  await r.client.subscribeAsync('replies/url-auth', { qos: 1 });
  await r.client.publishAsync(`bitnetd/${d.nodeId}/request`, JSON.stringify({ id: 'a', prompt: 'Hi', max_tokens: 2 }), { qos: 1, properties: { responseTopic: 'replies/url-auth' } });
  t.is((await r.final('replies/url-auth')).event.type, 'done');
  const ready = d.logs.find((l) => l.message === 'ready')!;
  t.is(ready['mqtt'], `mqtt://assistant:***@127.0.0.1:${b.port}`);
  t.false(d.stderr.includes('url-s3cret'), 'not in any log line');
  const status = await execFileAsync(process.execPath, [CLI, 'status', '--json', '--socket', d.socketPath]);
  t.false(status.stdout.includes('url-s3cret'), 'nor in the state');
  const printed = await execFileAsync(process.execPath, [CLI, 'config', '--print', '--config', d.configFile]);
  t.false(printed.stdout.includes('url-s3cret'), 'nor in config --print');
  t.regex(printed.stdout, /mqtt:\/\/assistant:\*\*\*@127\.0\.0\.1/);
});

test('TLS: a broker that requires client certificates serves a daemon with one and refuses one without', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=bitnetd test CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-copy_extensions', 'copy');
  ssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=bitnetd');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
  const tlsPort = await freePort();
  const b = await broker({
    extra: [`listener ${tlsPort} 127.0.0.1`, `cafile ${dir}/ca.crt`, `certfile ${dir}/server.crt`, `keyfile ${dir}/server.key`, 'require_certificate true'],
  });
  const url = `mqtts://127.0.0.1:${tlsPort}`;
  const withCert = await daemon(url, { ca: `${dir}/ca.crt`, cert: `${dir}/client.crt`, key: `${dir}/client.key` });
  const withoutCert = await daemon(url, { ca: `${dir}/ca.crt` }, {}, false);

  const r = await recorder(b.url); // the plain listener of the same broker
  await r.client.subscribeAsync('replies/tls', { qos: 1 });
  await r.client.publishAsync(`bitnetd/${withCert.nodeId}/request`, JSON.stringify({ id: 'tls', prompt: 'Hi', max_tokens: 2 }), {
    qos: 1,
    properties: { responseTopic: 'replies/tls' },
  });
  t.is((await r.final('replies/tls')).event.type, 'done');
  const refused = await withoutCert.waitForLog((l) => l.level === 'warn' && l.message.startsWith('mqtt:'));
  t.truthy(refused);
  t.is(withoutCert.proc.exitCode, null);
});

test('the power command topic takes a plain budget (as a Home Assistant number sends it), "off" or JSON; the state shows it', async (t) => {
  const b = await broker();
  const d = await daemon(b.url, {}, { power: { source: 'model' } });
  const stateTopic = `bitnetd/${d.nodeId}/state`;
  const setTopic = `bitnetd/${d.nodeId}/power/set`;
  const r = await recorder(b.url);
  await r.client.subscribeAsync(stateTopic, { qos: 1 });
  const state = (from: number) => r.on(stateTopic).slice(from).map((m) => m.event as unknown as Record<string, unknown>);
  const first = await r.waitFor(() => state(0)[0]);
  t.is(first['budget_watts'], null);
  t.is(first['power_source'], 'model');
  t.is(first['power_measured'], false);
  t.is(typeof first['energy_j'], 'number');
  for (const [payload, budget, temp] of [['4.5', 4.5, 75], ['{"budget_watts": 6, "max_temp_c": 70}', 6, 70], ['off', null, 70]] as const) {
    const from = r.on(stateTopic).length;
    await r.client.publishAsync(setTopic, payload, { qos: 1 });
    const seen = await r.waitFor(() => state(from).find((s) => s['budget_watts'] === budget && s['max_temp_c'] === temp));
    t.truthy(seen, `${payload} -> budget ${budget}, max ${temp} °C`);
  }
  const from = r.on(stateTopic).length;
  await r.client.publishAsync(setTopic, 'lots', { qos: 1 });
  await d.waitForLog((l) => l.level === 'warn' && /power\/set: a power command is a budget in watts/.test(l.message));
  t.true(state(from).every((s) => s['budget_watts'] === null), 'a bad payload changes nothing');
});

test('the thread cap topic works without Home Assistant discovery; a bad value is refused with a warning', async (t) => {
  const b = await broker();
  const d = await daemon(b.url, { discovery: false }, { model: { threads: 2 } });
  const stateTopic = `bitnetd/${d.nodeId}/state`;
  const r = await recorder(b.url);
  await r.client.subscribeAsync(stateTopic, { qos: 1 });
  const states = () => r.on(stateTopic).map((m) => m.event as unknown as { max_threads: number; thread_limit: number });
  t.like(await r.waitFor(() => states()[0]), { max_threads: 2, thread_limit: 2 });
  await r.client.publishAsync(`bitnetd/${d.nodeId}/threads/set`, '1', { qos: 1 });
  t.like(await r.waitFor(() => states().find((s) => s.max_threads === 1)), { thread_limit: 2 });
  const capped = states().findIndex((s) => s.max_threads === 1);
  await r.client.publishAsync(`bitnetd/${d.nodeId}/threads/set`, 'many', { qos: 1 });
  t.truthy(await d.waitForLog((l) => l.level === 'warn' && /threads\/set: a thread count is an integer from 1 to 256, or "off"/.test(l.message)));
  await r.client.publishAsync(`bitnetd/${d.nodeId}/threads/set`, 'off', { qos: 1 });
  t.truthy(await r.waitFor(() => states().find((s, i) => i > capped && s.max_threads === 2)), '"off" lifts the cap');
});

test('Home Assistant: retained device discovery, sent again when HA comes online; prompt, answer, thread cap, cancel; ha-remove clears it', async (t) => {
  const b = await broker();
  // Answers run on (no end of text in sight) until the cancel button stops them.
  const d = await daemon(b.url, {}, { model: { threads: 2 }, generation: { max_tokens: 100000 } }, true, tiny);
  const config = `homeassistant/device/${d.nodeId}/config`;
  const base = `bitnetd/${d.nodeId}`;
  const r = await recorder(b.url);
  await r.client.subscribeAsync([config, `${base}/answer`, `${base}/state`], { qos: 1 });
  const first = await r.waitFor(() => r.on(config).find((m) => m.packet.retain));
  const payload = first.event as unknown as { cmps: Record<string, { p: string; cmd_t?: string }> };
  t.true(Object.values(payload.cmps).some((c) => c.p === 'text' && c.cmd_t === `${base}/prompt`));

  await r.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await r.waitFor(() => (r.on(config).length >= 2 ? true : undefined));
  t.pass('discovery published again on HA\'s birth message');

  await r.client.publishAsync(`${base}/threads/set`, '1', { qos: 1 });
  await r.waitFor(() => r.on(`${base}/state`).find((m) => (m.event as unknown as { max_threads: number }).max_threads === 1));
  t.pass('the thread cap shows in the state');
  await r.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
  const again = await r.waitFor(() => r.on(config)[2]);
  const slider = Object.values((again.event as unknown as { cmps: Record<string, { name: string; min: number; max: number }> }).cmps).find((c) => c.name === 'Thread cap')!;
  t.deepEqual([slider.min, slider.max], [1, 2], 'a cap of 1 leaves the slider at 1 to model.threads (HA refuses max = min)');

  const states = () => r.on(`${base}/state`).map((m) => m.event as unknown as { busy: boolean });
  const before = states().length;
  await r.client.publishAsync(`${base}/prompt`, 'Tell me a very long story about the garden', { qos: 1 });
  await r.waitFor(() => (states().slice(before).some((s) => s.busy) ? true : undefined));
  await r.client.publishAsync(`${base}/cancel`, 'cancel', { qos: 1 });
  const answer = (await r.waitFor(() => r.on(`${base}/answer`)[0], 30_000)).event as unknown as { state: string; text: string; prompt: string; tokens: number };
  t.is(answer.prompt, 'Tell me a very long story about the garden');
  // Under load the cancel can come before the first token: then the answer is empty, still stopped.
  t.true(answer.tokens < 100000, 'the cancel button stopped the answer');
  t.true(answer.state.length <= 255);
  t.truthy(await d.waitForLog((l) => l.message === 'request done' && l['stop'] === 'cancelled')); // the log line may follow the answer

  await d.stop();
  await execFileAsync(process.execPath, [CLI, 'ha-remove', '--config', d.configFile]);
  const late = await connectAsync(b.url, { protocolVersion: 5 });
  cleanups.push(() => late.endAsync());
  const seen = new Map<string, string>();
  late.on('message', (topic, p) => seen.set(topic, p.toString()));
  await late.subscribeAsync([config, `${base}/answer`], { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(seen.has(config) && seen.get(config) !== '', 'no retained discovery payload is left');
  t.false(seen.has(`${base}/answer`) && seen.get(`${base}/answer`) !== '');
});
