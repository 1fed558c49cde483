// A real bitnetd daemon process for a test: temp config and socket, JSON logs parsed as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changes } from './changes.js';
import { CLI } from './paths.js';

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface DaemonOptions {
  model: string;
  /** Settings for the config file (merged over the test defaults: MQTT off, socket in a temp dir). */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
  /** Wait for the "ready" log line (default true). */
  waitReady?: boolean;
  /** How long to wait for it (default 60 s; emulated runs need more). */
  readyTimeoutMs?: number;
  /** Run under this wrapper command (e.g. systemd-socket-activate ...). */
  wrapper?: string[];
}

let counter = 0;

export class Daemon {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly changes = new Changes();

  private constructor(
    readonly proc: ChildProcess,
    readonly dir: string,
    readonly socketPath: string,
    readonly nodeId: string,
    readonly configFile: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    let partial = '';
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not JSON (journal/text format tests read stderr directly)
        }
      }
      this.changes.changed();
    });
    proc.once('exit', () => this.changes.changed());
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const dir = mkdtempSync(join(tmpdir(), 'bitnetd-d-'));
    const nodeId = `t${process.pid}_${++counter}`;
    const socketPath = join(dir, 'bitnetd.sock');
    const base = {
      node_id: nodeId,
      model: { path: options.model, threads: 1 },
      mqtt: { url: '' },
      socket: { path: socketPath },
      log: { level: 'info', format: 'json' },
      power: { state_file: join(dir, 'power.json') },
      cache: { dir: join(dir, 'prompt-cache') },
      http: { port: 0 }, // tests that want the HTTP API or Wyoming give them a free port
      wyoming: { port: 0 },
    };
    const config = merge(base, options.config ?? {});
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const cmd = [...(options.wrapper ?? []), process.execPath, CLI, 'serve', '--config', configFile, ...(options.args ?? [])];
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    for (const k of ['NOTIFY_SOCKET', 'JOURNAL_STREAM', 'LISTEN_FDS', 'LISTEN_PID', 'WATCHDOG_USEC']) {
      if (!options.env?.[k]) delete env[k];
    }
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    const daemon = new Daemon(proc, dir, String((config['socket'] as { path: string }).path), String(config['node_id']), configFile);
    if (options.waitReady !== false) {
      try {
        await daemon.waitForLog((l) => l.message === 'ready', options.readyTimeoutMs ?? 60_000);
      } catch (err) {
        proc.kill('SIGKILL'); // a daemon that never got ready must not outlive the test
        throw err;
      }
    }
    return daemon;
  }

  /** Resolves with the first log line matching, failing if the process exits first. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const exited = () => (this.proc.exitCode !== null || this.proc.signalCode !== null ? `bitnetd exited (${this.proc.exitCode ?? this.proc.signalCode}) first` : undefined);
    return this.changes.waitFor(() => this.logs.find(match), timeoutMs, () => this.stderr, exited);
  }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    return this.exited;
  }

  /** Resident memory in kB (VmRSS), from /proc. */
  rssKb(): number {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  }
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object'
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
