// The Unix socket: NDJSON, one request per line, events back as lines tagged with the request id.
// Several requests may share a connection; {"cancel": "<id>"} stops one; hanging up cancels them all.
// {"status": {}} and {"power": {...}} are answered at once, beside any running request.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { powerEvent, statusEvent, type Control } from '../control.js';
import type { Logger } from '../log.js';
import { errorEvent, parseMessage, type ServerEvent } from '../protocol.js';
import type { Job, Scheduler } from '../scheduler.js';
import { LineSplitter } from './line-splitter.js';

export interface SocketSettings {
  path: string;
  mode: string;
  group: string;
  maxLineBytes: number;
  /** A listening socket handed over by systemd (socket activation); `path` is then only informative. */
  fd?: number;
}

export class SocketTransport {
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private ownsFile = false;
  private nextConnection = 1;

  constructor(
    private readonly settings: SocketSettings,
    private readonly scheduler: Scheduler,
    private readonly control: Control,
    private readonly log: Logger,
  ) {
    // Half-open: a client that shuts down its sending side (socat after its input ends) still gets its answers.
    this.server = createServer({ allowHalfOpen: true }, (sock) => this.serve(sock));
  }

  /** Where clients connect, for logs. */
  describe(): string {
    return this.settings.fd !== undefined ? `fd ${this.settings.fd} from systemd` : this.settings.path;
  }

  async start(): Promise<void> {
    const { path, fd } = this.settings;
    if (fd !== undefined) {
      await this.listen({ fd });
      this.log.info('socket: serving the socket systemd passed in', { fd });
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    await this.listen({ path });
    this.ownsFile = true;
    chmodSync(path, parseInt(this.settings.mode, 8));
    if (this.settings.group) chownSync(path, -1, groupId(this.settings.group));
    this.log.info('socket: listening', { path, mode: this.settings.mode, ...(this.settings.group ? { group: this.settings.group } : {}) });
  }

  /** Stops taking connections; open ones still receive the answers to what they asked. */
  stopAccepting(): void {
    this.server.close();
  }

  /** Closes every connection and removes the socket file. */
  close(): void {
    for (const sock of this.connections) sock.end();
    this.server.close();
    if (this.ownsFile) {
      try {
        unlinkSync(this.settings.path);
      } catch {
        // already gone
      }
    }
  }

  private listen(where: { path: string } | { fd: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(where, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private serve(sock: Socket): void {
    const name = `socket-${this.nextConnection++}`;
    const jobs = new Map<string, Job>();
    let inputEnded = false;
    this.connections.add(sock);
    this.log.debug('socket: client connected', { connection: name });

    const send = (event: ServerEvent): void => {
      if (!sock.writable) return;
      sock.write(JSON.stringify(event) + '\n');
      if (event.type !== 'token' && event.id !== null) jobs.delete(event.id);
      if (inputEnded && jobs.size === 0) sock.end();
    };

    const splitter = new LineSplitter(this.settings.maxLineBytes, {
      tooLong: (bytes) =>
        send(errorEvent(null, 'bad_request', `a request line of ${bytes} bytes is over the limit of ${this.settings.maxLineBytes}`)),
      line: (text) => {
        const msg = parseMessage(text);
        if (msg.kind === 'invalid') return send(errorEvent(msg.id, 'bad_request', msg.message));
        if (msg.kind === 'cancel') {
          const job = jobs.get(msg.id);
          if (job) job.cancel('cancelled');
          else send(errorEvent(msg.id, 'bad_request', `no request "${msg.id}" is running or waiting on this connection`));
          return;
        }
        if (msg.kind === 'status') return send(statusEvent(this.control, msg.id));
        if (msg.kind === 'power') return send(powerEvent(this.control, msg.id, msg.limits));
        const { request } = msg;
        if (request.id !== undefined && jobs.has(request.id)) {
          return send(errorEvent(request.id, 'bad_request', `request id "${request.id}" is already in use on this connection`));
        }
        const job = this.scheduler.submit(request, send, { source: name });
        if (job && job.state !== 'finished') jobs.set(job.id, job);
      },
    });

    sock.on('data', (chunk: Buffer) => splitter.push(chunk));
    sock.on('end', () => {
      splitter.push(Buffer.from('\n')); // a last line without a newline still counts
      inputEnded = true;
      if (jobs.size === 0) sock.end();
    });
    sock.on('error', (err) => this.log.debug('socket: connection error', { connection: name, error: err.message }));
    sock.on('close', () => {
      this.connections.delete(sock);
      // Gone (closed, or a write failed): nobody is left to read the answers, so free the engine for others.
      for (const job of jobs.values()) job.cancel('cancelled');
      if (jobs.size) this.log.info('socket: client hung up; cancelled its requests', { connection: name, requests: jobs.size });
      jobs.clear();
    });
  }
}

/** A socket file left by a dead process is replaced; one something still listens on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; remove it or set socket.path (BITNETD_SOCKET_PATH)`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is listening on ${path}; is bitnetd already running?`);
  unlinkSync(path);
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    const entry = execFileSync('getent', ['group', group], { encoding: 'utf8' });
    const gid = Number(entry.split(':')[2]);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // not found
  }
  throw new Error(`socket.group: no group named "${group}"`);
}
