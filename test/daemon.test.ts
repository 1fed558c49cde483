// The daemon's life: start-up errors and their exit statuses, systemd notifications, journal logs,
// reload on SIGHUP, graceful stop on SIGTERM, and load against a full queue.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Daemon } from './helpers/daemon.js';
import { Broker } from './helpers/mosquitto.js';
import { MqttRecorder } from './helpers/mqtt-client.js';
import { syntheticModel } from './helpers/models.js';
import { SocketClient } from './helpers/socket-client.js';
import type { DoneEvent, ErrorEvent } from '../daemon/protocol.js';

const micro = () => syntheticModel('micro', 'official');
/** For requests that must still be running when the test acts: seconds of tokens even on a fast machine
 * (long requests pass seed 1, which samples 3000 tokens without an end-of-text on it). */
const tiny = () => syntheticModel('tiny', 'official');
const cleanups: (() => Promise<unknown>)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});
async function daemon(options: Partial<Parameters<typeof Daemon.start>[0]> = {}): Promise<Daemon> {
  const d = await Daemon.start({ model: await micro(), ...options });
  cleanups.push(() => d.stop());
  return d;
}

test('a missing model file: exit 66 with where to get it, no stack trace', async (t) => {
  const d = await daemon({ model: '/nonexistent/ggml-model-i2_s.gguf', waitReady: false });
  t.is(await d.exited, 66);
  const err = d.logs.find((l) => l.level === 'error')!;
  t.regex(err.message, /model file \/nonexistent\/ggml-model-i2_s\.gguf not found/);
  t.regex(err.message, /huggingface\.co\/microsoft\/bitnet-b1\.58-2B-4T-gguf/);
  t.regex(err.message, /BITNETD_MODEL_PATH/);
  t.notRegex(d.stderr, /\n\s+at /, 'no stack trace');
  // A checkout has no bitnetd command: the hint is one that runs here, for the same path.
  const hint = /"node (\S+) pull -m \/nonexistent\/ggml-model-i2_s\.gguf"/.exec(err.message);
  t.truthy(hint, err.message);
  t.true(existsSync(resolve(process.cwd(), hint![1]!)), `${hint![1]} is this checkout's command line`);
});

test('the missing-model hint says "bitnetd pull" where a bitnetd command is on the PATH', async (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'bitnetd-bin-'));
  writeFileSync(join(bin, 'bitnetd'), '#!/bin/sh\n', { mode: 0o755 });
  const d = await daemon({ model: '/nonexistent/m.gguf', waitReady: false, env: { PATH: `${bin}:${process.env['PATH']}` } });
  t.is(await d.exited, 66);
  t.regex(d.logs.find((l) => l.level === 'error')!.message, /"bitnetd pull -m \/nonexistent\/m\.gguf"/);
});

test('a corrupt model file: exit 65 with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-bad-'));
  const bad = join(dir, 'bad.gguf');
  writeFileSync(bad, Buffer.from('GGUF but not really a model file'));
  const d = await daemon({ model: bad, waitReady: false });
  t.is(await d.exited, 65);
  t.regex(d.logs.find((l) => l.level === 'error')!.message, /cannot load the model: .*bad\.gguf/);
});

test('a bad configuration: exit 78 naming every bad setting, its source and what is allowed', async (t) => {
  const d = await daemon({
    config: { queue: { max: -1 }, mqtt: { protocol_version: 3 }, colour: 'red' },
    env: { BITNETD_LOG_LEVEL: 'loud' },
    waitReady: false,
  });
  t.is(await d.exited, 78);
  t.regex(d.stderr, /queue\.max: must be a positive integer/);
  t.regex(d.stderr, /mqtt\.protocol_version: must be one of the possible values: \[5,4\]: value was 3/);
  t.regex(d.stderr, /log\.level: must be one of the possible values: \["error","warn","info","debug"\]: value was "loud" \(from BITNETD_LOG_LEVEL\)/);
  t.regex(d.stderr, /colour: unknown setting \(in .*config\.json\)/);
});

test('a port another program holds: exit 73 naming the setting, and what had started is closed again', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
  const port = (holder.address() as AddressInfo).port;
  const d = await daemon({ config: { wyoming: { port } }, waitReady: false });
  t.is(await d.exited, 73);
  t.regex(d.logs.find((l) => l.level === 'error')!.message, new RegExp(`cannot serve Wyoming on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*set wyoming\\.port`));
  t.false(existsSync(d.socketPath), 'the socket file is removed');
});

test('systemd: READY=1 once loaded, STATUS=, watchdog pings and STOPPING=1 over NOTIFY_SOCKET', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-notify-'));
  const notifySocket = join(dir, 'notify');
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${notifySocket}`, 'STDOUT']);
  cleanups.push(async () => receiver.kill());
  let received = '';
  receiver.stdout.on('data', (d: Buffer) => (received += d.toString() + '\u0000'));
  while (!existsSync(notifySocket)) await new Promise((r) => setTimeout(r, 10));

  const d = await daemon({ env: { NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '200000' } });
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 10_000;
    while (!re.test(received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return received;
  };
  t.regex(await until(/READY=1\nSTATUS=idle/), /STATUS=loading .*\.gguf/);
  t.regex(await until(/WATCHDOG=1/), /WATCHDOG=1/, 'pinged at half of WATCHDOG_USEC');
  t.is(await d.stop(), 0, `exit by ${d.proc.signalCode}; notified: ${JSON.stringify(received)}; stderr:\n${d.stderr}`);
  t.regex(await until(/STOPPING=1/), /STOPPING=1/);
});

test('under systemd (JOURNAL_STREAM) log lines carry syslog priorities and no timestamp', async (t) => {
  const d = await daemon({ config: { log: { format: 'auto' } }, env: { JOURNAL_STREAM: '8:12345' }, waitReady: false });
  const deadline = Date.now() + 60_000; // generous: this file's other tests load the CPU meanwhile
  while (!d.stderr.includes('<6>ready ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.true(d.stderr.includes('<6>ready '), `not ready in 60 s:\n${d.stderr}`);
  t.is(await d.stop(), 0, `exit by ${d.proc.signalCode}; stderr:\n${d.stderr}`);
  const lines = d.stderr.trim().split('\n');
  t.true(lines.length >= 3);
  for (const line of lines) t.regex(line, /^<[3-7]>\S/);
  t.true(lines.some((l) => l.startsWith('<6>ready ')));
  t.false(/\d{4}-\d\d-\d\dT\d\d:/.test(d.stderr), 'the journal adds its own timestamps');
});

test('SIGHUP reloads the configuration: the log level changes live, a broken file is refused', async (t) => {
  const d = await daemon();
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'quiet', prompt: 'private words', max_tokens: 2 });
  await c.answer('quiet');
  await d.waitForLog((l) => l.message === 'request done' && l['id'] === 'quiet');
  t.false(d.stderr.includes('private words'), 'no prompt text at info level');

  const config = JSON.parse((await import('node:fs')).readFileSync(d.configFile, 'utf8')) as { log: { level: string } };
  config.log.level = 'debug';
  writeFileSync(d.configFile, JSON.stringify(config));
  d.proc.kill('SIGHUP');
  await d.waitForLog((l) => l.message === 'configuration reloaded');
  c.send({ id: 'loud', prompt: 'private words', max_tokens: 2 });
  await c.answer('loud');
  const started = await d.waitForLog((l) => l.message === 'request started' && l['id'] === 'loud');
  t.is(started.level, 'debug');
  t.is(started['text'], 'private words', 'prompt text only at debug level');

  writeFileSync(d.configFile, '{ not json');
  d.proc.kill('SIGHUP');
  const refused = await d.waitForLog((l) => l.message.startsWith('reload failed'));
  t.regex(refused.message, /keeping the running configuration/);
  c.send({ id: 'after', prompt: 'Hi', max_tokens: 2 });
  t.is((await c.answer('after')).type, 'done', 'still serving');
  c.close();
});

test('SIGTERM: finishes within the grace time, cancels the rest, answers everything, publishes offline, exits 0', async (t) => {
  const broker = await Broker.start();
  cleanups.push(() => broker.stop());
  const d = await daemon({ model: await tiny(), config: { mqtt: { url: broker.url }, shutdown: { grace_ms: 700 } } });
  await d.waitForLog((l) => l.message === 'mqtt: subscribed');
  const r = await MqttRecorder.connect(broker.url);
  cleanups.push(() => r.close());
  await r.client.subscribeAsync(`bitnetd/${d.nodeId}/state`, { qos: 1 });

  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'running', prompt: 'A long story', max_tokens: 3000, stream: true, seed: 1 });
  c.send({ id: 'waiting', prompt: 'Hi', max_tokens: 220 });
  await c.waitFor(() => (c.of('running').length >= 1 ? true : undefined));
  d.proc.kill('SIGTERM');
  await d.waitForLog((l) => l.message === 'stopping');
  await t.throwsAsync(SocketClient.connect(d.socketPath), undefined, 'no new connections once stopping');

  const running = (await c.answer('running')) as DoneEvent;
  const waiting = (await c.answer('waiting')) as ErrorEvent;
  t.is(running.type, 'done');
  t.is(running.stop_reason, 'shutdown');
  t.is(waiting.code, 'shutting_down');
  t.is(await d.exited, 0);
  const last = await r.waitFor(() => r.on(`bitnetd/${d.nodeId}/state`).find((m) => (m.event as unknown as { state: string }).state === 'offline'));
  t.true(Boolean(last));
  t.false(existsSync(d.socketPath), 'socket file removed');
});

test('load: 200 requests against queue.max 50 give 150 immediate busy errors and 50 answers; memory stays flat', async (t) => {
  const d = await daemon({ config: { queue: { max: 50 } } });
  const burst = async (round: number) => {
    const c = await SocketClient.connect(d.socketPath);
    const ids = Array.from({ length: 200 }, (_, i) => `r${round}-${i}`);
    c.send(ids.map((id) => JSON.stringify({ id, prompt: 'secret-prompt-text', max_tokens: 2 })).join('\n'));
    await c.waitFor(() => (ids.every((id) => c.final(id)) ? true : undefined), 60_000);
    const finals = ids.map((id) => c.final(id)!);
    c.close();
    return {
      busy: finals.filter((e) => e.type === 'error' && e.code === 'busy').length,
      done: finals.filter((e) => e.type === 'done').length,
      // "Immediate": every busy answer arrives before the first answer of an accepted request.
      busyFirst: c.events.findIndex((e) => e.type === 'done') > c.events.findLastIndex((e) => e.type === 'error'),
    };
  };
  // RSS moves with the garbage collector's rhythm, so compare peaks: the highest after rounds 1-3 (warm)
  // against the highest after rounds 5-8. A leak of even 0.1 MB per answered request would add 25 MB.
  const rss: number[] = [];
  for (let round = 0; round < 8; round++) {
    t.deepEqual(await burst(round), { busy: 150, done: 50, busyFirst: true });
    rss.push(d.rssKb());
  }
  const warm = Math.max(...rss.slice(0, 3));
  const late = Math.max(...rss.slice(4));
  t.log(`RSS after each round (kB): ${rss.join(', ')}`);
  t.true(late - warm < 24_000, `memory grew by ${late - warm} kB`);
  t.false(d.stderr.includes('secret-prompt-text'), 'prompts are not logged at info level');
});

test('the prompt cache: two clients with their own long system prompt, interleaved, each get theirs back from the cache', async (t) => {
  const d = await daemon({ model: await tiny(), config: { cache: { slots: 2 } } });
  const c = await SocketClient.connect(d.socketPath);
  const ask = async (id: string, system: string, prompt: string) => {
    c.send({ id, system, prompt, max_tokens: 3 });
    return (await c.answer(id)) as DoneEvent;
  };
  const lights = 'You control the lights of the kitchen, the hall and the porch. '.repeat(15);
  const heating = 'You control the heating of the living room and the bedrooms. '.repeat(15);
  const first = [await ask('a1', lights, 'Kitchen on'), await ask('b1', heating, 'How warm is it?')];
  const second = [await ask('a2', lights, 'Porch off'), await ask('b2', heating, 'Set 21 degrees')];
  for (const e of first) t.is(e.cached_tokens, 0);
  for (const e of second) t.true(e.cached_tokens > 150, `${e.id}: ${e.cached_tokens} of ${e.prompt_tokens} prompt tokens from the cache`);
  const state = (await (async () => {
    c.send({ id: 's', status: {} });
    return c.answer('s');
  })()) as unknown as { prompt_cache_tokens: number };
  t.true(state.prompt_cache_tokens > 300);
});

/** One request with a long system prompt on a connection of its own: its done event. */
async function askOnce(d: Daemon, id: string, system: string, prompt: string): Promise<DoneEvent> {
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id, system, prompt, max_tokens: 3 });
  const done = (await c.answer(id)) as DoneEvent;
  c.close();
  return done;
}

test('the prompt cache outlives a restart: saved at the stop, read back at the start, the same prompt starts from it', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'bitnetd-pc-'));
  const config = { cache: { dir: cacheDir } };
  const ask = (d: Daemon, id: string) => askOnce(d, id, 'You control the lights of the kitchen, the hall and the porch. '.repeat(15), 'Kitchen on');
  const first = await Daemon.start({ model: await tiny(), config });
  t.is((await ask(first, 'before')).cached_tokens, 0);
  t.is(await first.stop(), 0);
  const saved = first.logs.find((l) => l.message === 'prompt cache: saved');
  t.like(saved, { prompts: 1, written: 1 });

  const second = await daemon({ model: await tiny(), config });
  const read = second.logs.find((l) => l.message === 'prompt cache: read back');
  t.like(read, { prompts: 1, tokens: saved!['tokens'] });
  const after = await ask(second, 'after');
  t.true(after.cached_tokens > 150, `${after.cached_tokens} of ${after.prompt_tokens} prompt tokens from the saved cache`);
  t.is(after.cached_tokens, after.prompt_tokens - 1);
});

test('a power cut loses at most cache.save_idle_s of the prompt cache: saved when idle, read back after SIGKILL', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'bitnetd-pc-'));
  const config = { cache: { dir: cacheDir, save_idle_s: 1 } };
  const ask = (d: Daemon, id: string) => askOnce(d, id, 'You control the heating of the living room and the bedrooms. '.repeat(15), 'Warmer please');
  const first = await Daemon.start({ model: await tiny(), config });
  t.is((await ask(first, 'before')).cached_tokens, 0);
  const saved = await first.waitForLog((l) => l.message === 'prompt cache: saved' && l['when'] === 'idle', 20_000);
  t.like(saved, { prompts: 1, written: 1 });
  first.proc.kill('SIGKILL'); // no clean stop: what the idle save wrote is all there is
  await first.exited;

  const second = await daemon({ model: await tiny(), config });
  t.like(second.logs.find((l) => l.message === 'prompt cache: read back'), { prompts: 1, tokens: saved['tokens'] });
  const after = await ask(second, 'after');
  t.is(after.cached_tokens, after.prompt_tokens - 1, 'the whole prompt but its last token came from the saved cache');
});

test('SIGKILL in the middle of a prompt-cache save: the next start removes the half-written file and serves', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'bitnetd-pc-'));
  const config = { cache: { dir: cacheDir, save_idle_s: 1 } };
  const first = await Daemon.start({ model: await tiny(), config });
  // The save's temporary file is a pipe nobody reads: the save starts and cannot finish, so the kill
  // below lands inside it, every time.
  execFileSync('mkfifo', [join(cacheDir, 'prompt-0.kv.tmp')]);
  await askOnce(first, 'before', 'You control the blinds of the living room and the bedrooms. '.repeat(15), 'Close them');
  await new Promise((r) => setTimeout(r, 3_000)); // save_idle_s 1: the save has begun by now
  t.falsy(first.logs.find((l) => l.message.startsWith('prompt cache: saved') || l.message.startsWith('prompt cache: cannot save')), 'the save is still running');
  first.proc.kill('SIGKILL');
  await first.exited;
  t.deepEqual(readdirSync(cacheDir), ['prompt-0.kv.tmp'], 'what the kill left');

  const second = await daemon({ model: await tiny(), config });
  t.like(second.logs.find((l) => l.message === 'prompt cache: removed what an interrupted save left'), { files: 1 });
  t.deepEqual(readdirSync(cacheDir), []);
  t.is((await askOnce(second, 'after', 'You control the blinds. ', 'Open them')).type, 'done');
});

test('a full disk under the prompt cache: the idle save fails with a warning, nothing is left behind, serving goes on', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'bitnetd-pc-'));
  const d = await daemon({ model: await tiny(), config: { cache: { dir: cacheDir, save_idle_s: 1 } } });
  symlinkSync('/dev/full', join(cacheDir, 'prompt-0.kv.tmp')); // its writes fail with ENOSPC, as on a full disk
  await askOnce(d, 'before', 'You control the washing machine and the dryer. '.repeat(15), 'Start the wash');
  const warning = await d.waitForLog((l) => l.message.startsWith('prompt cache: cannot save it'), 20_000);
  t.regex(warning.message, /No space left on device|ENOSPC/);
  t.deepEqual(readdirSync(cacheDir), [], 'no half-written file fills the disk');
  t.is((await askOnce(d, 'after', 'You control the dryer. ', 'Is it done?')).type, 'done');
});

test('a torn prompt-cache file (a power cut with the writes out of order) is refused and removed; the daemon starts and serves', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'bitnetd-pc-'));
  const config = { cache: { dir: cacheDir } };
  const system = 'You control the garden sprinklers and the pond pump. '.repeat(15);
  const first = await Daemon.start({ model: await tiny(), config });
  await askOnce(first, 'before', system, 'Water the lawn');
  t.is(await first.stop(), 0);
  const file = join(cacheDir, 'prompt-0.kv');
  truncateSync(file, Math.floor(statSync(file).size / 2));

  const second = await daemon({ model: await tiny(), config });
  const refused = second.logs.find((l) => l.level === 'warn' && l.message.startsWith('prompt cache: not reusing'));
  t.like(refused, { file: 'prompt-0.kv' });
  t.false(existsSync(file), 'the torn file is gone');
  const after = await askOnce(second, 'after', system, 'Water the lawn');
  t.is(after.cached_tokens, 0, 'nothing was taken from the torn file');
});

test('a model file truncated under the running daemon: the request fails saying so, and the daemon exits 65 for a restart', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'bitnetd-trunc-')), 'model.gguf');
  copyFileSync(await micro(), file);
  const d = await daemon({ model: file });
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'before', prompt: 'Hi', max_tokens: 2 });
  t.is((await c.answer('before')).type, 'done');
  truncateSync(file, 1000); // the weights are in memory; the token embeddings are read from the file
  c.send({ id: 'after', prompt: 'Turn on the kitchen light', max_tokens: 2 });
  const e = (await c.answer('after')) as ErrorEvent;
  t.regex(e.message, /the model file changed under the running daemon/);
  t.is(await d.exited, 65, 'EX_DATAERR: systemd restarts it, and the start says what is wrong with the file');
  t.truthy(d.logs.find((l) => l.level === 'error' && l.message.includes('changed under the running daemon')));
  t.is(d.proc.signalCode, null, 'no SIGBUS');
});
