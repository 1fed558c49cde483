// The power governor in a running daemon, on a real synthetic model, with the power model as its
// source (this VM has no sensor): lowering the budget over the socket lowers the threads and the
// tokens per second, the budget survives a restart, and lifting it brings the speed back.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonState, DoneEvent, ServerEvent } from '../daemon/protocol.js';
import { Daemon } from './helpers/daemon.js';
import { syntheticModel } from './helpers/models.js';
import { SocketClient } from './helpers/socket-client.js';

// Big enough that a token takes milliseconds and two threads beat one.
const SHAPE = { nEmbd: 512, nLayer: 6, nHead: 8, nHeadKv: 4, nFf: 1536, nCtx: 2048 };
// The model reads all CPUs' busy time: 1 W idle, 2 W per busy core; one busy thread is 3 W.
const POWER = { source: 'model', interval_ms: 100, max_temp_c: 0, model: { idle_watts: 1, watts_per_core: 2, alpha: 1 } };

let next = 0;
async function ask(client: SocketClient, message: object): Promise<ServerEvent> {
  const id = `q${++next}`;
  client.send({ id, ...message });
  return client.answer(id, 120_000);
}
const status = async (client: SocketClient) => (await ask(client, { status: {} })) as ServerEvent & DaemonState;
/** Decode speed of one answer (seed 1 runs on without an end of text). */
async function speed(client: SocketClient, tokens = 250): Promise<number> {
  const done = (await ask(client, { prompt: 'Tell me about the kitchen lights', max_tokens: tokens, seed: 1, temperature: 1 })) as DoneEvent;
  if (done.type !== 'done') throw new Error(JSON.stringify(done));
  return done.decode_tokens_per_s;
}

/** Answers until the governor's setting passes the check and stays the same over three more answers
 * (it acts while the engine computes, and takes a few steps, each a few ticks, to find its rung). */
async function settle(client: SocketClient, check: (s: DaemonState) => boolean): Promise<DaemonState | undefined> {
  const seen: DaemonState[] = [];
  for (let i = 0; i < 60; i++) {
    const s = await status(client);
    seen.push(s);
    const last = seen.slice(-4);
    if (last.length === 4 && last.every((x) => check(x) && x.threads === s.threads && x.duty_cycle === s.duty_cycle)) return s;
    await speed(client, 30);
  }
  return undefined;
}

test('lowering the budget on a running daemon lowers its threads and tokens/s; lifting it restores them; it persists', async (t) => {
  const model = await syntheticModel(SHAPE, 'official');
  const stateFile = join(mkdtempSync(join(tmpdir(), 'bitnetd-power-')), 'power.json'); // shared by both daemons
  const config = { model: { threads: 2 }, power: { ...POWER, state_file: stateFile } };
  let d = await Daemon.start({ model, config });
  try {
    let client = await SocketClient.connect(d.socketPath);
    await speed(client, 50); // warm-up: pages in, and the governor learns idle and busy power
    const before = await status(client);
    t.is(before.threads, 2);
    t.is(before.power_source, 'model');
    t.false(before.power_measured);
    t.is(before.budget_watts, null);

    // This file runs alone (test/ava.alone.config.mjs): two threads lose far more than one to another
    // process's load (each step waits for the slower), so other test files would decide the comparison.
    // The speeds still alternate and medians compare. 1.2 W leaves one thread at the lowest duty cycle
    // (0.1), a tenth of one thread's speed.
    const free: number[] = [];
    const limited: number[] = [];
    for (let round = 0; round < 3; round++) {
      t.like(await ask(client, { power: { budget_watts: null } }), { type: 'power', budget_watts: null });
      const lifted = await settle(client, (s) => s.threads === 2 && s.duty_cycle === 1);
      t.truthy(lifted, 'lifting the budget restores the threads');
      free.push(await speed(client, 120));

      const set = await ask(client, { power: { budget_watts: 1.2 } });
      t.like(set, { type: 'power', budget_watts: 1.2 });
      const during = await settle(client, (s) => s.threads === 1 && s.duty_cycle < 1);
      t.truthy(during, 'one thread alone draws 3 W: one thread, and a duty cycle under 1');
      t.log(`settled at ${during?.threads} thread(s), duty ${during?.duty_cycle}, ${during?.power_w} W`);
      limited.push(await speed(client, 40));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    t.log(`tok/s without a budget ${free.join(', ')}; under 1.2 W ${limited.join(', ')}`);
    t.true(median(limited) < median(free) * 0.5, `${median(limited)} tok/s under the budget against ${median(free)} without`);
    t.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { budget_watts: 1.2 });
    t.truthy(d.logs.find((l) => l.message === 'power: new setting' && l['threads'] === 1), 'the new setting is logged');

    await d.stop();
    d = await Daemon.start({ model, config });
    client = await SocketClient.connect(d.socketPath);
    t.is((await status(client)).budget_watts, 1.2, 'the budget set at run time outlives a restart');
  } finally {
    await d.stop();
  }
});

test('bad power commands are refused with the reason, and nothing changes', async (t) => {
  const d = await Daemon.start({ model: await syntheticModel('micro', 'official'), config: { power: POWER } });
  try {
    const client = await SocketClient.connect(d.socketPath);
    const bad = await ask(client, { power: { budget_watts: -3 } });
    t.like(bad, { type: 'error', code: 'bad_request' });
    t.regex((bad as { message: string }).message, /budget_watts must be >= 0/);
    t.like(await ask(client, { power: { watts: 3 } }), { type: 'error', code: 'bad_request' });
    t.like(await ask(client, { power: {} }), { type: 'error', code: 'bad_request' });
    t.is((await status(client)).budget_watts, null);
  } finally {
    await d.stop();
  }
});
