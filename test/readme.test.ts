// End to end: "npm start" as the README says, then the README's example block run verbatim with
// bash: socat on the Unix socket, mosquitto_rr / mosquitto_sub / mosquitto_pub on MQTT.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Broker, canConnect } from './helpers/mosquitto.js';
import { syntheticModel } from './helpers/models.js';
import { ROOT } from './helpers/paths.js';
import type { ServerEvent } from '../daemon/protocol.js';
import { LIMITS } from '../daemon/requests/limits.js';

/** The fenced block that follows the marker comment in README.md. */
function exampleBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- The test suite runs this block verbatim');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker < 0 || !block) throw new Error('README.md lost its example block');
  return block[1]!;
}

test('the README examples work verbatim against "npm start"', async (t) => {
  // The examples talk to localhost:1883: use the broker there, or start one.
  let broker: Broker | undefined;
  if (!(await canConnect(1883))) broker = await Broker.start({ port: 1883 });
  const model = await syntheticModel('micro', 'official');
  const daemon = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true, // its own process group, so that npm and the daemon stop together
    env: { ...process.env, BITNETD_MODEL_PATH: model, BITNETD_LOG_FORMAT: 'json', BITNETD_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  daemon.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const stopDaemon = () => {
    try {
      process.kill(-daemon.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  t.teardown(async () => {
    stopDaemon();
    await broker?.stop();
  });
  const deadline = Date.now() + 60_000;
  while (!log.includes('"mqtt: subscribed"')) {
    if (daemon.exitCode !== null || Date.now() > deadline) t.fail(`npm start did not come up:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const script = spawn('bash', ['-c', exampleBlock()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  script.stdout.on('data', (d: Buffer) => (out += d.toString()));
  script.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => script.once('exit', r));
  t.is(code, 0, `the examples failed:\n${err}\n${out}`);

  const lines = out.trim().split('\n');
  const json = (s: string) => JSON.parse(s) as ServerEvent & Record<string, unknown>;
  const socketAnswer = json(lines.find((l) => l.startsWith('{"id":"1"'))!);
  t.is(socketAnswer.type, 'done', 'socat got the answer');
  const rrAnswer = lines.map((l) => (l.startsWith('{') ? json(l) : undefined)).find((e) => e?.type === 'done' && e.id !== '1');
  t.truthy(rrAnswer, 'mosquitto_rr printed the answer');
  const node = hostname().split('.')[0];
  const streamed = lines.filter((l) => l.startsWith(`bitnetd/${node}/response/q1 `)).map((l) => json(l.slice(l.indexOf(' ') + 1)));
  const tokens = streamed.filter((e) => e.type === 'token');
  t.true(tokens.length > 0, 'mosquitto_sub saw the stream');
  t.deepEqual(tokens.map((e) => e['seq']), tokens.map((_, i) => i));
  t.is(streamed.at(-1)?.type, 'done');
  const state = json(lines.at(-1)!) as unknown as { state: string; model: string };
  t.is(state.state, 'online');

  stopDaemon();
  const stopBy = Date.now() + 15_000;
  while (!log.includes('"message":"stopped"') && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 50));
  t.regex(log, /"message":"stopped"/, 'the daemon stopped cleanly');
});

test("the README's limits table states the limits the request check enforces", (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('**Limits**');
  const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| --- |', start)));
  t.true(start > 0, 'README.md has its limits table');
  const stated = (n: number) => table.includes(n.toLocaleString('en-US'));
  for (const [name, value] of Object.entries(LIMITS)) {
    if (name === 'deadlineMs') t.true(table.includes(`${value / 3_600_000} hours`), name);
    else t.true(stated(value), `${name}: ${value}`);
  }
});
