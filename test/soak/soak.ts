// npm run soak: load on a real daemon over loopback, bounded in time. 50 socket clients, 20 HTTP
// clients and a 200-message MQTT burst at once, with cancels and hang-ups mid-stream; socket and HTTP
// clients retry after busy as they are told to. Every request whose client stays gets exactly one final
// event (done or error); overload is shed with busy (HTTP 503), never by dropping; the daemon's peak RSS
// is reported; afterwards it still answers. Prints a summary and exits 1 on any violation.
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import type { ServerEvent } from '../../daemon/protocol.js';
import { Daemon } from '../helpers/daemon.js';
import { Broker, freePort } from '../helpers/mosquitto.js';
import { MqttRecorder } from '../helpers/mqtt-client.js';
import { syntheticModel } from '../helpers/models.js';
import { SocketClient } from '../helpers/socket-client.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

interface Tally {
  sent: number;
  done: number;
  busy: number;
  otherErrors: number;
  cancelled: number;
  hungUp: number;
  /** Requests of clients that stayed without exactly one final event. */
  violations: string[];
}

const tally = (): Tally => ({ sent: 0, done: 0, busy: 0, otherErrors: 0, cancelled: 0, hungUp: 0, violations: [] });

function count(t: Tally, finals: ServerEvent[], id: string): void {
  if (finals.length !== 1) return void t.violations.push(`${id}: ${finals.length} final events`);
  const e = finals[0]!;
  if (e.type === 'done') {
    t.done++;
    if (e.stop_reason === 'cancelled') t.cancelled++;
  } else if (e.type === 'error' && e.code === 'busy') t.busy++;
  else if (e.type === 'error' && e.code === 'cancelled') t.cancelled++;
  else t.otherErrors++;
}

/** Waits a little before a retry after `busy`, as a client told to retry later does. */
const backOff = () => new Promise((res) => setTimeout(res, 100 + Math.random() * 400));
const MAX_ATTEMPTS = 400;

/** One socket client: requests one after another, each retried while the queue is full; every fourth
 * client cancels its first one mid-stream, every fifth hangs up in the middle of its last one. */
async function socketClient(path: string, n: number, requests: number, t: Tally): Promise<void> {
  const c = await SocketClient.connect(path);
  for (let r = 0; r < requests; r++) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const id = `s${n}-${r}-${attempt}`;
      t.sent++;
      c.send({ id, prompt: `Socket client ${n}, question ${r}: which lights are on?`, stream: true, max_tokens: 24 });
      const hangUp = n % 5 === 0 && r === requests - 1;
      const cancel = n % 4 === 0 && r === 0;
      if (hangUp || cancel) {
        const first = await c.waitFor(() => c.of(id).find((e) => e.type !== 'token' || e.seq === 0), 240_000);
        if (first.type === 'token' && hangUp) {
          t.hungUp++;
          c.close();
          return;
        }
        if (first.type === 'token') c.send({ cancel: id });
      }
      const final = await c.answer(id, 240_000);
      await new Promise((res) => setTimeout(res, 5)); // a second final event would show by now
      count(t, c.of(id).filter((e) => e.type !== 'token'), id);
      if (!(final.type === 'error' && final.code === 'busy')) break;
      await backOff();
    }
  }
  c.close();
}

/** One HTTP client: streamed /api/generate requests, each retried on 503; every third aborts its first
 * one mid-stream. */
async function httpClient(url: string, n: number, requests: number, t: Tally): Promise<void> {
  for (let r = 0; r < requests; r++) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      t.sent++;
      const abort = new AbortController();
      const res = await fetch(`${url}/api/generate`, {
        method: 'POST',
        body: JSON.stringify({ model: 'bitnet-b1.58-2b-4t', prompt: `HTTP client ${n}, question ${r}`, options: { num_predict: 24 } }),
        signal: abort.signal,
      });
      if (res.status === 503) {
        t.busy++;
        await res.text();
        await backOff();
        continue;
      }
      if (res.status !== 200) t.violations.push(`http ${n}-${r}: status ${res.status} ${await res.text()}`);
      else if (n % 3 === 0 && r === 0) {
        const reader = res.body!.getReader();
        await reader.read();
        abort.abort();
        await reader.cancel().catch(() => {});
        t.hungUp++;
      } else {
        const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { done?: boolean; error?: string });
        const finals = lines.filter((l) => l.done || l.error);
        if (finals.length !== 1) t.violations.push(`http ${n}-${r}: ${finals.length} final chunks`);
        else if (finals[0]!.error) t.otherErrors++;
        else t.done++;
      }
      break;
    }
  }
}

/** The burst: every request at once on the request topic, each answered on its own response topic. */
async function mqttBurst(recorder: MqttRecorder, nodeId: string, n: number, t: Tally): Promise<void> {
  await recorder.client.subscribeAsync('soak/#', { qos: 1 });
  await Promise.all(
    Array.from({ length: n }, (_, i) => {
      t.sent++;
      return recorder.client.publishAsync(`bitnetd/${nodeId}/request`, JSON.stringify({ id: `m${i}`, prompt: `MQTT ${i}: is the door locked?`, max_tokens: 8 }), {
        qos: 1,
        properties: { responseTopic: `soak/${i}` },
      });
    }),
  );
  await recorder.waitFor(() => (Array.from({ length: n }, (_, i) => recorder.on(`soak/${i}`).some((r) => r.event.type !== 'token')).every(Boolean) ? true : undefined), 240_000);
  await new Promise((res) => setTimeout(res, 500));
  for (let i = 0; i < n; i++) count(t, recorder.on(`soak/${i}`).filter((r) => r.event.type !== 'token').map((r) => r.event), `m${i}`);
}

const program = new Command('soak')
  .description('load a real daemon over loopback and check that nothing is lost')
  .option('--socket-clients <n>', 'socket clients', positive, 50)
  .option('--http-clients <n>', 'HTTP clients', positive, 20)
  .option('--mqtt-burst <n>', 'MQTT requests at once', positive, 200)
  .option('--requests <n>', 'requests per socket and HTTP client', positive, 3)
  .action(async (o: { socketClients: number; httpClients: number; mqttBurst: number; requests: number }) => {
    const broker = await Broker.start();
    const httpPort = await freePort();
    const queueMax = 16;
    const daemon = await Daemon.start({
      model: await syntheticModel('micro', 'official'),
      config: { mqtt: { url: broker.url, discovery: false }, http: { port: httpPort }, queue: { max: queueMax }, socket: { max_connections: 128 } },
    });
    await daemon.waitForLog((l) => l.message === 'mqtt: subscribed');
    const recorder = await MqttRecorder.connect(broker.url);
    const baseline = daemon.rssKb() * 1024;
    let peak = baseline;
    const watch = setInterval(() => {
      try {
        peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.proc.pid}/status`, 'utf8'))?.[1]) * 1024);
      } catch {
        // gone: reported below
      }
    }, 50);
    const socket = tally();
    const http = tally();
    const mqtt = tally();
    const t0 = performance.now();
    const guard = setTimeout(() => {
      process.stderr.write('soak: not finished in 10 minutes\n');
      process.exit(1);
    }, 600_000);
    await Promise.all([
      ...Array.from({ length: o.socketClients }, (_, n) => socketClient(daemon.socketPath, n, o.requests, socket)),
      ...Array.from({ length: o.httpClients }, (_, n) => httpClient(`http://127.0.0.1:${httpPort}`, n, o.requests, http)),
      mqttBurst(recorder, daemon.nodeId, o.mqttBurst, mqtt),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    // Still serving afterwards.
    const after = await SocketClient.connect(daemon.socketPath);
    after.send({ id: 'after', prompt: 'Still there?', max_tokens: 2 });
    const last = await after.answer('after', 60_000);
    after.close();
    clearInterval(watch);
    clearTimeout(guard);
    const alive = last.type === 'done' && daemon.proc.exitCode === null;
    await recorder.close();
    await daemon.stop();
    await broker.stop();

    const rows = { socket, http, mqtt };
    const violations = [...socket.violations, ...http.violations, ...mqtt.violations];
    const summary = {
      seconds: Math.round(seconds),
      requests: socket.sent + http.sent + mqtt.sent,
      ...Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { sent: v.sent, done: v.done, busy: v.busy, cancelled: v.cancelled, hung_up: v.hungUp, other_errors: v.otherErrors }])),
      violations: violations.length,
      rss_mb: { before: Math.round(baseline / 1e6), peak: Math.round(peak / 1e6) },
      still_serving: alive,
    };
    process.stdout.write(`soak: ${JSON.stringify(summary)}\n`);
    for (const v of violations.slice(0, 20)) process.stdout.write(`  ${v}\n`);
    if (violations.length || !alive) process.exitCode = 1;
  });

await program.parseAsync(process.argv);
