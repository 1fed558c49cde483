// The Wyoming handle service of a real daemon on a synthetic model, driven as Home Assistant drives it:
// describe → info (read with the fields the wyoming library's dataclasses require), then a transcript
// with HA's context → the streamed answer ending in `handled`. Also bad input, hang-ups and zeroconf.
import test from 'ava';
import { Bonjour, type Service } from 'bonjour-service';
import { announcedAddresses, mdnsHostName } from '../../../daemon/transports/wyoming/zeroconf-addresses.js';
import { networkInterfaces } from 'node:os';
import { Daemon } from '../../helpers/daemon.js';
import { freePort } from '../../helpers/mosquitto.js';
import { syntheticModel } from '../../helpers/models.js';
import { WyomingClient } from '../../helpers/wyoming-client.js';

const cleanups: (() => Promise<unknown>)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function server(wyoming: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<{ d: Daemon; port: number }> {
  const port = await freePort();
  const d = await Daemon.start({
    model: await syntheticModel('tiny', 'official'),
    config: { wyoming: { port, ...wyoming }, generation: { max_tokens: 12 }, ...config },
  });
  cleanups.push(() => d.stop());
  return { d, port };
}

async function client(port: number): Promise<WyomingClient> {
  const c = await WyomingClient.connect(port);
  cleanups.push(async () => c.close());
  return c;
}

const requestsDone = (d: Daemon) => d.logs.filter((l) => l.message === 'request done' && l['source'] === 'wyoming');

test('describe is answered with a handle program Home Assistant can read', async (t) => {
  const { port } = await server();
  const c = await client(port);
  c.send('describe');
  const info = await c.next();
  t.is(info.type, 'info');
  const header = JSON.parse(c.raw.map(String).join('').split('\n')[0]!) as Record<string, unknown>;
  t.is(typeof header['version'], 'string');
  t.true((header['data_length'] as number) > 0, 'data after the header line');
  const handle = info.data['handle'] as Record<string, unknown>[];
  t.is(handle.length, 1);
  const program = handle[0]!;
  for (const key of ['name', 'attribution', 'installed', 'description', 'version', 'models']) t.true(key in program, `program.${key}`);
  t.true(program['installed']);
  t.true(program['supports_handled_streaming']);
  t.false(program['supports_home_control']);
  const model = (program['models'] as Record<string, unknown>[])[0]!;
  for (const key of ['name', 'attribution', 'installed', 'description', 'version', 'languages']) t.true(key in model, `model.${key}`);
  t.deepEqual(model['languages'], ['en']);
  t.regex(String(model['description']), /parameters/);
  for (const kind of ['asr', 'tts', 'intent', 'wake']) t.deepEqual(info.data[kind], [], `${kind}: none`);
});

test('a transcript streams handled-start, chunks, handled with the whole answer, handled-stop; turns of a conversation build on each other', async (t) => {
  const { d, port } = await server();
  const context = { conversation_id: '01JDHA0000CONVERSATION01', device_id: 'dev1', satellite_id: 'assist_satellite.kitchen' };
  const ask = async (conversationId: string) => {
    const c = await client(port); // HA opens a connection per turn
    c.send('transcript', { text: 'What is the capital of France?', language: 'en', context: { ...context, conversation_id: conversationId } });
    const events = await c.until(['handled', 'not-handled']);
    const stop = await c.next();
    return { events, stop };
  };
  const first = await ask(context.conversation_id);
  const types = first.events.map((e) => e.type);
  t.is(types[0], 'handled-start');
  t.is(types.at(-1), 'handled');
  t.true(types.slice(1, -1).every((x) => x === 'handled-chunk') && types.length > 2, types.join(','));
  t.is(first.stop.type, 'handled-stop');
  t.deepEqual(first.events[0]!.data['context'], context, 'the context comes back');
  const handled = first.events.at(-1)!;
  const chunks = first.events.slice(1, -1).map((e) => e.data['text'] as string).join('');
  t.is(handled.data['text'], chunks.trim());
  t.deepEqual(handled.data['context'], context);

  await ask(context.conversation_id);
  await ask('01JDHA0000CONVERSATION02');
  await d.waitForLog(() => requestsDone(d).length >= 3);
  const [one, two, other] = requestsDone(d).map((l) => l['prompt_tokens'] as number);
  t.true(two! > one! + 4, `the second turn includes the first (${one} → ${two} prompt tokens)`);
  t.is(other, one, 'another conversation starts afresh');
});

test('older clients with data inline are served; ping is answered; bad events get an error and the connection lives', async (t) => {
  const { port } = await server();
  const c = await client(port);
  c.sock.write('{"type":"transcript","data":{"text":"Hello"}}\n');
  const events = await c.until(['handled']);
  t.is(events[0]!.type, 'handled-start');
  t.deepEqual(events[0]!.data, { context: {} });
  t.is((await c.next()).type, 'handled-stop');

  c.send('ping', { text: 'p1' });
  t.deepEqual(await c.next(), { type: 'pong', data: { text: 'p1' } });
  c.send('transcript', { language: 'en' });
  const error = await c.next();
  t.is(error.type, 'error');
  t.is(error.data['code'], 'bad_request');
  t.regex(String(error.data['text']), /"text"/);
  c.sock.write('{"type":"transcript","data_length":3}\nabc');
  t.regex(String((await c.next()).data['text']), /not JSON/);
  c.send('audio-start', { rate: 16000, width: 2, channels: 1 }); // not ours: ignored
  c.send('describe');
  t.is((await c.next()).type, 'info', 'still serving');
});

test('a stream that breaks the framing is told why and closed; the daemon serves the next client', async (t) => {
  const { d, port } = await server({ max_event_bytes: 4096 });
  for (const bad of ['not json at all\n', `{"type":"x","payload_length":${1 << 20}}\n`, 'x'.repeat(5000)]) {
    const c = await client(port);
    c.sock.write(bad);
    const error = await c.next();
    t.is(error.type, 'error');
    t.regex(String(error.data['text']), /cannot read the stream/);
    await c.waitClosed();
  }
  const c = await client(port);
  c.send('describe');
  t.is((await c.next()).type, 'info');
  t.is(d.proc.exitCode, null);
});

test('hanging up cancels the answer', async (t) => {
  const { d, port } = await server({}, { generation: { max_tokens: 400 } });
  const c = await client(port);
  c.send('transcript', { text: 'Tell me a long story about the sea.', context: { conversation_id: 'hangup' } });
  await c.until(['handled-chunk']);
  c.close();
  const done = await d.waitForLog((l) => l.message === 'request done' && l['source'] === 'wyoming');
  t.is(done['stop'], 'cancelled');
  t.true((done['tokens'] as number) < 400);
});

test('a full queue is not-handled, with a sentence to speak', async (t) => {
  const { port } = await server({}, { queue: { max: 1 }, generation: { max_tokens: 400 } });
  const [a, b] = [await client(port), await client(port)];
  a.send('transcript', { text: 'Tell me a long story about the sea.' });
  await a.until(['handled-start']);
  b.send('transcript', { text: 'And another one.' });
  const refused = await b.next();
  t.is(refused.type, 'not-handled');
  t.regex(String(refused.data['text']), /^Sorry, I could not answer: the queue is full/);
  t.deepEqual(refused.data['context'], {});
});

const lan = Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => !a.internal && a.family === 'IPv4'));
(lan ? test : test.skip)('beyond loopback the service is announced as _wyoming._tcp.local. and withdrawn at stop', async (t) => {
  const { d, port } = await server({ host: '0.0.0.0' });
  const name = `bitnetd-${d.nodeId}`;
  const bonjour = new Bonjour();
  cleanups.push(() => new Promise((resolve) => bonjour.destroy(resolve)));
  // One browser for both: a goodbye counts only for a service that browser has seen come up.
  const browser = bonjour.find({ type: 'wyoming' });
  const seen = new Promise<Service>((resolve) => browser.on('up', (s: Service) => s.name === name && resolve(s)));
  const gone = new Promise<void>((resolve) => browser.on('down', (s: Service) => s.name === name && resolve()));
  const found = await within(20_000, seen, `${name}._wyoming._tcp.local. was not announced`);
  t.is(found.port, port);
  t.is(found.protocol, 'tcp');
  t.true((found.addresses ?? []).length > 0);
  t.is(found.host, mdnsHostName(), 'the SRV target is <hostname>.local, which HA can resolve');
  const lanAddresses = announcedAddresses(networkInterfaces(), []);
  for (const a of found.addresses!) t.true(lanAddresses.has(a), `${a} is a LAN address of this host`);
  const reachable = found.addresses!.find((a) => a.includes('.'))!;
  const c = await WyomingClient.connect(port, reachable);
  cleanups.push(async () => c.close());
  c.send('describe');
  t.is((await c.next()).type, 'info', `served at the announced address ${reachable}`);
  c.close();

  await d.stop();
  await within(20_000, gone, 'no goodbye was heard after the stop');
  t.pass('the goodbye was heard');
});

/** The promise's value, or a failure saying what did not happen within ms. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (within ${ms} ms)`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

test('connections are bounded: more than wyoming.max_connections are turned away; idle ones are closed, after their answer', async (t) => {
  const { d, port } = await server({ max_connections: 3, idle_timeout_s: 1 });
  const held = await Promise.all([client(port), client(port), client(port)]);
  const extra = await Promise.all([client(port), client(port)]);
  for (const c of extra) await c.waitClosed(5_000);
  t.truthy(await d.waitForLog((l) => l.level === 'warn' && l.message.startsWith('turning connections away: 3 are open (wyoming.max_connections)')));
  // A held connection asks: it is answered in full before idleness closes it.
  held[0]!.send('transcript', { text: 'Tell me a story about the kitchen light' });
  const answer = await held[0]!.until(['handled', 'not-handled'], 60_000);
  t.is(answer.at(-1)!.type, 'handled');
  for (const c of held) await c.waitClosed(10_000); // then idle, like the others
  const fresh = await client(port);
  fresh.send('describe');
  t.is((await fresh.next()).type, 'info', 'the slots are free again');
});
