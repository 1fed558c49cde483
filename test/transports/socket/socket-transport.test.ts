// The Unix socket against a real daemon process on a synthetic model.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../helpers/daemon.js';
import { syntheticModel } from '../../helpers/models.js';
import { SocketClient } from '../../helpers/socket-client.js';
import type { DoneEvent, ErrorEvent, TokenEvent } from '../../../daemon/protocol.js';

const micro = () => syntheticModel('micro', 'official');
/** For requests that must still be running when the test acts: ~10 s of tokens even on a fast machine. */
const tiny = () => syntheticModel('tiny', 'official');
const daemons: Daemon[] = [];
async function daemon(options: Partial<Parameters<typeof Daemon.start>[0]> = {}): Promise<Daemon> {
  const d = await Daemon.start({ model: await micro(), ...options });
  daemons.push(d);
  return d;
}
test.after.always(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
});

const tokens = (c: SocketClient, id: string) => c.of(id).filter((e): e is TokenEvent => e.type === 'token');

test('concurrent requests on one connection are answered in order, each event tagged with its id', async (t) => {
  const d = await daemon();
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'a', prompt: 'Turn on the kitchen light', max_tokens: 6, stream: true, seed: 1 });
  c.send({ id: 'b', prompt: 'And the hall', max_tokens: 4, seed: 2 });
  const a = (await c.answer('a')) as DoneEvent;
  const b = (await c.answer('b')) as DoneEvent;
  t.is(a.type, 'done');
  t.is(b.type, 'done');
  const chunks = tokens(c, 'a');
  t.deepEqual(chunks.map((e) => e.seq), chunks.map((_, i) => i), 'seq counts up from 0');
  t.is(a.seq, chunks.length);
  t.is(chunks.map((e) => e.text).join(''), a.text, 'the chunks add up to the final text');
  t.is(a.generated_tokens, 6);
  t.is(tokens(c, 'b').length, 0, 'no token events without stream');
  t.true(c.events.indexOf(a) < c.events.indexOf(b), 'first come, first served');
  t.is(b.generated_tokens, 4);
  c.close();
});

test('cancel stops a running request within a token and answers a waiting one with an error', async (t) => {
  const d = await daemon({ model: await tiny() });
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'long', prompt: 'Tell me a long story', max_tokens: 3000, stream: true, seed: 1 });
  c.send({ id: 'next', prompt: 'Hi', max_tokens: 200 });
  await c.waitFor(() => (tokens(c, 'long').length >= 2 ? true : undefined));
  c.send({ cancel: 'next' });
  const next = (await c.answer('next')) as ErrorEvent;
  t.is(next.code, 'cancelled');
  c.send({ cancel: 'long' });
  const long = (await c.answer('long')) as DoneEvent;
  t.is(long.type, 'done');
  t.is(long.stop_reason, 'cancelled');
  t.true(long.generated_tokens < 3000);
  t.true(long.generated_tokens - tokens(c, 'long').length <= 2, 'stopped within a token of the cancel');
  c.send({ cancel: 'nothing' });
  t.is(((await c.answer('nothing')) as ErrorEvent).code, 'bad_request');
  c.close();
});

test('a client that hangs up cancels its requests and frees the engine for others', async (t) => {
  const d = await daemon({ model: await tiny() });
  const leaving = await SocketClient.connect(d.socketPath);
  leaving.send({ id: 'gone', prompt: 'Tell me a long story', max_tokens: 3000, stream: true, seed: 1 });
  leaving.send({ id: 'gone-too', prompt: 'And another', max_tokens: 200 });
  await leaving.waitFor(() => (tokens(leaving, 'gone').length >= 1 ? true : undefined));
  leaving.close();
  const done = await d.waitForLog((l) => l.message === 'request done' && l['id'] === 'gone');
  t.is(done['stop'], 'cancelled');
  t.true(Number(done['tokens']) < 3000);
  await d.waitForLog((l) => l.message === 'socket: client hung up; cancelled its requests');

  const staying = await SocketClient.connect(d.socketPath);
  staying.send({ id: 'mine', prompt: 'Hi', max_tokens: 3 });
  t.is((await staying.answer('mine')).type, 'done');
  t.falsy(d.logs.find((l) => l.message === 'request done' && l['id'] === 'gone-too'), 'the waiting request never ran');
  staying.close();
});

test('malformed lines get errors while the other requests on the connection go on', async (t) => {
  const d = await daemon();
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 'first', prompt: 'Hello', max_tokens: 5, stream: true });
  c.send('this is not json');
  c.send('{"id": "typed", "prompt": 42}');
  c.send('{"id": "extra", "prompt": "hi", "colour": "red"}');
  c.send('{"id": "both", "prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}');
  c.send('{"id": "temp", "prompt": "hi", "temperature": "hot"}');
  c.send('[1, 2]');
  c.send(JSON.stringify({ id: 'huge', prompt: 'x'.repeat(1_100_000) }));
  c.send({ id: 'last', prompt: 'Bye', max_tokens: 3 });

  t.is((await c.answer('first')).type, 'done');
  t.is((await c.answer('last')).type, 'done');
  const err = (id: string | null) => c.of(id).find((e): e is ErrorEvent => e.type === 'error');
  t.regex(err('typed')!.message, /prompt must be string/);
  t.regex(err('extra')!.message, /unknown field "colour"/);
  t.regex(err('both')!.message, /exactly one of "prompt" and "messages"/);
  t.regex(err('temp')!.message, /temperature must be number/);
  const anonymous = c.of(null) as ErrorEvent[];
  t.is(anonymous.length, 3, 'not JSON, not an object, and the over-long line');
  t.true(anonymous.every((e) => e.code === 'bad_request'));
  t.regex(anonymous.map((e) => e.message).join('\n'), /not JSON/);
  t.regex(anonymous.map((e) => e.message).join('\n'), /over the limit of 1048576/);
  t.is(d.proc.exitCode, null, 'the daemon is still running');
  c.close();
});

test('the socket file gets mode 0660, and a stale one is replaced', async (t) => {
  const d = await daemon();
  t.is(statSync(d.socketPath).mode & 0o777, 0o660);
  // A socket file whose owner died without removing it:
  const stale = join(d.dir, 'stale.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.true(existsSync(stale));
  const d2 = await daemon({ config: { socket: { path: stale } } });
  const c = await SocketClient.connect(stale);
  c.send({ id: 'x', prompt: 'Hi', max_tokens: 2 });
  t.is((await c.answer('x')).type, 'done');
  c.close();
  await d2.stop();
  t.false(existsSync(stale), 'removed at exit');
});

test('a socket another process listens on is left alone, with a clear error', async (t) => {
  const first = await daemon();
  const second = await Daemon.start({ model: await micro(), config: { socket: { path: first.socketPath } }, waitReady: false });
  t.is(await second.exited, 73);
  t.regex(second.stderr, /another process is listening on .*bitnetd\.sock; is bitnetd already running\?/);
  const c = await SocketClient.connect(first.socketPath);
  c.send({ id: 'still', prompt: 'Hi', max_tokens: 2 });
  t.is((await c.answer('still')).type, 'done', 'the first daemon still serves');
  c.close();
});

test('systemd socket activation: the daemon serves the socket it is handed', async (t) => {
  const dir = (await daemon()).dir; // borrow a temp dir
  const activated = join(dir, 'activated.sock');
  const d = await daemon({ wrapper: ['systemd-socket-activate', '-l', activated], waitReady: false });
  // systemd-socket-activate starts the daemon on the first connection.
  const deadline = Date.now() + 5000;
  while (!existsSync(activated) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const c = await SocketClient.connect(activated);
  c.send({ id: 'act', prompt: 'Hi', max_tokens: 2 });
  t.is((await c.answer('act', 30_000)).type, 'done');
  const ready = await d.waitForLog((l) => l.message === 'ready');
  t.is(ready['socket'], 'fd 3 from systemd');
  t.false(existsSync(d.socketPath), 'the configured path was not used');
  c.close();
});

test('socket.group gives the socket file that group', async (t) => {
  const gid = userInfo().gid;
  const name = execFileSync('getent', ['group', String(gid)], { encoding: 'utf8' }).split(':')[0]!;
  const d = await daemon({ config: { socket: { group: name } } });
  t.is(statSync(d.socketPath).gid, gid);
  const bad = await Daemon.start({ model: await micro(), config: { socket: { group: 'no-such-group-here' } }, waitReady: false });
  t.is(await bad.exited, 73);
  t.regex(bad.stderr, /socket\.group: no group named \\"no-such-group-here\\"/);
});

test('a named conversation carries earlier turns into the prompt and reuses their cache', async (t) => {
  const d = await daemon();
  const c = await SocketClient.connect(d.socketPath);
  c.send({ id: 't1', conversation: 'kitchen', system: 'You run a house.', prompt: 'Turn on the light.', max_tokens: 4, seed: 1 });
  const first = (await c.answer('t1')) as DoneEvent;
  c.send({ id: 't2', conversation: 'kitchen', prompt: 'And the oven.', max_tokens: 4, seed: 1 });
  const second = (await c.answer('t2')) as DoneEvent;
  c.send({ id: 'alone', prompt: 'And the oven.', max_tokens: 4, seed: 1 });
  const alone = (await c.answer('alone')) as DoneEvent;
  t.true(second.prompt_tokens > first.prompt_tokens + first.generated_tokens, 'the second prompt holds the first turn and its answer');
  t.true(second.cached_tokens >= first.prompt_tokens - 1, 'the first turn came from the KV cache');
  t.true(alone.prompt_tokens < second.prompt_tokens, 'without the name, no history');
  c.close();
});
