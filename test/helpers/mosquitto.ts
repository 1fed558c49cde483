// A real mosquitto broker for a test: own port, own config, optional users and persistence.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface BrokerOptions {
  /** user name → password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Keep sessions and queued messages across a restart (saved on SIGTERM). */
  persistence?: boolean;
  /** Extra lines for mosquitto.conf (a TLS listener, say). */
  extra?: string[];
  port?: number;
}

export class Broker {
  private proc: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly conf: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const dir = mkdtempSync(join(tmpdir(), 'bitnetd-mosq-'));
    const port = options.port ?? (await freePort());
    const lines = [
      'per_listener_settings false',
      `user ${userInfo().username}`, // mosquitto started as root would switch to "mosquitto" and lose our files
      `listener ${port} 127.0.0.1`,
      `persistence ${options.persistence ? 'true' : 'false'}`,
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
    ];
    if (options.users) {
      const file = join(dir, 'passwd');
      writeFileSync(file, '');
      for (const [user, pass] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', file, user, pass]);
      lines.push('allow_anonymous false', `password_file ${file}`);
    } else {
      lines.push('allow_anonymous true');
    }
    lines.push(...(options.extra ?? []));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    const broker = new Broker(port, dir, conf);
    await broker.launch();
    return broker;
  }

  /** (Re)starts the broker process and waits until it accepts connections. */
  async launch(): Promise<void> {
    const proc = spawn('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc = proc;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops the broker (SIGTERM saves persistent sessions; SIGKILL loses what is not saved). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  }
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
