// bitnetd status: asks the running daemon, over its Unix socket, for its state (threads, speed, power,
// temperature, energy); --budget and --max-temp set the power limits first (saved by the daemon).
import { createConnection } from 'node:net';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { EXIT } from '../exit-codes.js';
import type { DaemonState, PowerLimits, ServerEvent } from '../protocol.js';
import { addConfigFlags, configSources } from './config-flags.js';

interface Flags {
  json?: boolean;
  budget?: number | 'off';
  maxTemp?: number | 'off';
}

/** "off" or a number >= 0 (commander turns a parser's null into "", hence the word). */
function limitArg(value: string): number | 'off' {
  if (/^(off|none)$/i.test(value)) return 'off';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number >= 0, or "off"');
  return n;
}

export function statusCommand(): Command {
  return addConfigFlags(new Command('status'))
    .description("show the running daemon's state: threads, speed, power, temperature, energy (over its socket)")
    .option('--json', 'print the state as JSON')
    .option('--budget <watts>', 'first set the power budget in watts, or "off" (the daemon saves it)', limitArg)
    .option('--max-temp <celsius>', 'first set the temperature limit, or "off"', limitArg)
    .action(async (flags: Flags & Parameters<typeof configSources>[0]) => {
      let path: string;
      try {
        path = loadConfig(configSources(flags)).config.socket.path;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`bitnetd: ${err.message}\n`);
        process.exitCode = EXIT.CONFIG;
        return;
      }
      const value = (v: number | 'off') => (v === 'off' ? null : v);
      const limits: PowerLimits = {
        ...(flags.budget !== undefined ? { budget_watts: value(flags.budget) } : {}),
        ...(flags.maxTemp !== undefined ? { max_temp_c: value(flags.maxTemp) } : {}),
      };
      const requests = [...(Object.keys(limits).length ? [{ id: 'power', power: limits }] : []), { id: 'status', status: {} }];
      const events = await ask(path, requests);
      const failed = events.find((e) => e.type === 'error');
      if (failed && failed.type === 'error') throw new Error(`the daemon refused: ${failed.message}`);
      const status = events.find((e): e is ServerEvent & DaemonState & { type: 'status' } => e.type === 'status');
      if (!status) throw new Error('the daemon sent no status');
      const { id: _id, type: _type, ...state } = status;
      process.stdout.write(flags.json ? JSON.stringify(state, null, 2) + '\n' : describe(state));
    });
}

/** Sends the requests on one connection and collects the events until the daemon closes it. */
function ask(path: string, requests: object[]): Promise<ServerEvent[]> {
  return new Promise((resolve, reject) => {
    const events: ServerEvent[] = [];
    let buffer = '';
    const sock = createConnection({ path }, () => sock.end(requests.map((r) => JSON.stringify(r) + '\n').join('')));
    sock.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line) events.push(JSON.parse(line) as ServerEvent);
    });
    sock.on('close', () => resolve(events));
    sock.on('error', (err) => reject(new Error(`cannot reach bitnetd at ${path} (${err.message}); is it running? (--socket or --config pick another)`)));
  });
}

function describe(s: DaemonState): string {
  const or = (v: number | null, unit: string, none = 'none') => (v === null ? none : `${v} ${unit}`);
  const power = s.power_w === null ? 'no reading yet' : `${s.power_w} W`;
  const how = s.power_measured ? `measured by ${s.power_source}` : 'estimated by the power model (no sensor)';
  return [
    `bitnetd ${s.version}: ${s.model}, kernel ${s.kernel}`,
    `state      ${s.busy ? `busy, ${s.queued} waiting` : 'idle'}; ${s.requests} requests (${s.rejected} refused), ${s.tokens} tokens`,
    `speed      ${s.tokens_per_s} tok/s (last request)`,
    `threads    ${s.threads} of ${s.max_threads}, duty cycle ${s.duty_cycle}`,
    `power      ${power}, ${how}; budget ${or(s.budget_watts, 'W')}`,
    `heat       ${or(s.temperature_c, '°C', 'no sensor')}; limit ${or(s.max_temp_c, '°C')}${s.throttling ? '; THE FIRMWARE IS THROTTLING' : ''}`,
    `energy     ${s.energy_j} J since start${s.joules_per_token === null ? '' : `; ${s.joules_per_token} J per token (last request)`}${s.power_measured ? '' : ', estimated'}`,
    `serving    ${Object.entries(s.serving ?? {}).map(([name, where]) => `${name} ${where}`).join(', ') || 'nothing'}`,
    '',
  ].join('\n');
}
