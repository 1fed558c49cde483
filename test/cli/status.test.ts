// bitnetd status against a real daemon over its real socket.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DaemonState } from '../../daemon/protocol.js';
import { Daemon } from '../helpers/daemon.js';
import { syntheticModel } from '../helpers/models.js';
import { CLI } from '../helpers/paths.js';

const run = promisify(execFile);
const bitnetd = (...args: string[]) => run(process.execPath, [CLI, ...args]);

test('status shows threads, power and its source; --budget sets the budget first; --json is the state topic\'s object', async (t) => {
  const d = await Daemon.start({ model: await syntheticModel('micro', 'official'), config: { power: { source: 'model' } } });
  try {
    const text = (await bitnetd('status', '--socket', d.socketPath)).stdout;
    t.regex(text, /^threads +1 of 1, duty cycle 1$/m);
    t.regex(text, /^power .*estimated by the power model \(no sensor\); budget none$/m);
    t.regex(text, /^heat +no sensor; limit 75 °C$/m);
    t.regex(text, new RegExp(`^serving +socket ${d.socketPath}$`, 'm'), 'the transports serving, as they describe themselves');
    const json = JSON.parse((await bitnetd('status', '--socket', d.socketPath, '--budget', '3.5', '--json')).stdout) as DaemonState;
    t.is(json.budget_watts, 3.5);
    t.is(json.power_source, 'model');
    t.false(json.power_measured);
    t.is(json.kernel.length > 0, true);
    t.deepEqual(json.serving, { socket: d.socketPath });
    t.regex((await bitnetd('status', '--socket', d.socketPath, '--budget', 'off')).stdout, /budget none$/m);
    await t.throwsAsync(bitnetd('status', '--socket', d.socketPath, '--budget', '-1'), { message: /--budget <watts>.*a number >= 0, or "off"/s });
  } finally {
    await d.stop();
  }
});

test('status without a daemon: a clear error and a failing exit status', async (t) => {
  const err = (await t.throwsAsync(bitnetd('status', '--socket', '/nonexistent/bitnetd.sock'))) as unknown as { stderr: string; code: number };
  t.regex(err.stderr, /cannot reach bitnetd at \/nonexistent\/bitnetd\.sock .*is it running\?/);
  t.is(err.code, 1);
});
