// Ollama's HTTP API (on loopback by default, port 11434 as Ollama): the paths and shapes that Home
// Assistant's Ollama integration and other Ollama clients use, over the same scheduler as MQTT and the
// socket. /api/chat and /api/generate stream NDJSON as Ollama does; a client that hangs up cancels.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../../config/schema.js';
import type { ErrorCode, ServerEvent } from '../../protocol.js';
import { checkRequest } from '../../requests/check.js';
import { VERSION } from '../../version.js';
import { boundPort, hostPort, isLoopback, listen } from '../tcp-listen.js';
import type { ServedModel } from '../served-model.js';
import type { Transport, TransportContext } from '../transport.js';
import { refusal } from './http-guard.js';
import { finalChunk, textChunk, toolCallChunk, toolCalls, type OllamaChunk } from './chunks.js';
import { ModelCard } from './model-card.js';
import { parseChatRequest, parseGenerateRequest, parseModelRequest, type OllamaPullProgress } from './protocol.js';
import { chatRequest, generateRequest, ollamaFieldName, type Translated } from './translate.js';

/** The served model is here (it was loaded, or pulled at the start): Ollama's steps, done at once. */
const PULL_STEPS = ['pulling manifest', 'verifying sha256 digest', 'writing manifest', 'success'];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  prompt_too_long: 400,
  busy: 503,
  shutting_down: 503,
  expired: 408,
  deadline: 504,
  cancelled: 499,
  internal: 500,
};

const ENDPOINTS = new Set(['/', '/api/version', '/api/tags', '/api/ps', '/api/show', '/api/chat', '/api/generate', '/api/pull']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class OllamaTransport implements Transport {
  readonly name = 'ollama';
  private readonly server: Server;
  private readonly card: ModelCard;
  private readonly contextSize: number;
  private nextId = 1;
  /** Translation notes already logged at info: a client sends the same options every time (Home
   * Assistant's num_ctx 8192 on every turn), so a note is news once and debug after that. */
  private readonly notesSeen = new Set<string>();

  constructor(
    /** `token`, when not empty, is required as "Authorization: Bearer <token>". */
    private readonly settings: Config['http'],
    private readonly context: TransportContext,
    served: ServedModel,
  ) {
    this.card = new ModelCard(served.model, settings.model_name, served.contextSize);
    this.contextSize = served.contextSize;
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) this.context.log.error('http: request failed', { path: req.url, error: err instanceof Error ? err.stack : String(err) });
        sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
      });
    });
    this.server.keepAliveTimeout = 65_000; // longer than the clients' own idle timeouts
  }

  describe(): string {
    return `http://${hostPort(this.settings.host, this.port())}`;
  }

  port(): number {
    return boundPort(this.server, this.settings.port);
  }

  async start(): Promise<void> {
    await listen(this.server, this.settings.port, this.settings.host, 'HTTP', 'http.port');
    if (!isLoopback(this.settings.host) && !this.settings.token) {
      this.context.log.warn('http: listening beyond loopback without http.token: anyone who can reach this port can use the model; set http.token (Home Assistant sends it as the API key)', { url: this.describe() });
    }
    this.context.log.info('http: listening (Ollama API)', { url: this.describe(), model: this.card.name, token: this.settings.token ? 'required' : 'none' });
  }

  stopAccepting(): void {
    this.server.close();
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, this.settings);
    if (refused) throw new HttpError(refused.status, refused.message);
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : 'Ollama is running');
        return;
      case 'GET /api/version':
        return sendJson(res, 200, { version: VERSION });
      case 'GET /api/tags':
        return sendJson(res, 200, { models: [this.card.entry()] });
      case 'GET /api/ps':
        return sendJson(res, 200, { models: [this.card.running()] });
      case 'POST /api/show': {
        const body = parseModelRequest(await readJson(req, this.settings.max_body_bytes));
        if (typeof body === 'string') throw new HttpError(400, body);
        this.requireModel(body.model);
        return sendJson(res, 200, this.card.show());
      }
      case 'POST /api/chat':
      case 'POST /api/generate':
        return this.generate(req, res, path === '/api/chat');
      case 'POST /api/pull':
        return this.pullModel(req, res);
      case 'DELETE /api/delete':
      case 'POST /api/copy':
      case 'POST /api/create':
      case 'POST /api/push':
        throw new HttpError(403, `bitnetd serves one model, ${this.card.name}; ${path} is not available`);
      default:
        if (ENDPOINTS.has(path)) throw new HttpError(405, `${path} does not take ${req.method ?? 'that method'}`);
        throw new HttpError(404, `${path} is not an endpoint of this server`);
    }
  }

  private requireModel(name: string): void {
    if (!this.card.matches(name)) throw new HttpError(404, `model "${name}" not found, try pulling it first (this server has ${this.card.name})`);
  }

  private async generate(req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
    const startedAt = performance.now();
    const json = await readJson(req, this.settings.max_body_bytes);
    const body = chat ? parseChatRequest(json) : parseGenerateRequest(json);
    if (typeof body === 'string') throw new HttpError(400, body);
    this.requireModel(body.model);
    const stream = body.stream ?? true;
    const id = `http-${this.nextId++}`;
    const translated: Translated | null = chat
      ? chatRequest(body as Parameters<typeof chatRequest>[0], id, this.contextSize)
      : generateRequest(body as Parameters<typeof generateRequest>[0], id, this.contextSize);
    if (!translated) return sendJson(res, 200, { ...textChunk(chat, body.model, '', true), done_reason: 'load' }); // only "load the model"
    const checked = checkRequest(translated.request, ollamaFieldName);
    if (!checked.ok) throw new HttpError(400, checked.message);
    for (const note of translated.notes) {
      const seen = this.notesSeen.has(note);
      if (!seen && this.notesSeen.size < 100) this.notesSeen.add(note);
      this.context.log[seen ? 'debug' : 'info'](`http: ${note}${seen ? '' : ' (said once; at debug level after this)'}`, { id });
    }

    let headersSent = false;
    const writeLine = (chunk: OllamaChunk) => {
      if (!headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      headersSent = true;
      res.write(JSON.stringify(chunk) + '\n');
    };
    await new Promise<void>((resolve) => {
      const sink = (event: ServerEvent) => {
        if (event.type === 'token') {
          if (stream) writeLine(textChunk(chat, body.model, event.text));
        } else if (event.type === 'done') {
          const final = finalChunk(chat, body.model, event, performance.now() - startedAt, stream);
          if (stream) {
            const calls = chat ? toolCalls(event) : undefined;
            if (calls) writeLine(toolCallChunk(body.model, calls)); // as Ollama: the calls, then the end
            writeLine(final);
            res.end();
          } else sendJson(res, 200, final);
          resolve();
        } else if (event.type === 'error') {
          if (headersSent) res.end(JSON.stringify({ error: event.message }) + '\n');
          else sendJson(res, STATUS[event.code], { error: event.message });
          resolve();
        }
      };
      const job = this.context.submit(checked.request, sink, { source: 'http' });
      res.on('close', () => {
        if (job && job.state !== 'finished') job.cancel('cancelled'); // the client hung up
      });
    });
  }

  private async pullModel(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseModelRequest(await readJson(req, this.settings.max_body_bytes));
    if (typeof body === 'string') throw new HttpError(400, body);
    this.requireModel(body.model);
    if (!body.stream) return sendJson(res, 200, { status: 'success' } satisfies OllamaPullProgress);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const status of PULL_STEPS) res.write(JSON.stringify({ status } satisfies OllamaPullProgress) + '\n');
    res.end();
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));
}

/** The request body as JSON (an empty body is {}), at most maxBytes. */
function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c); // past the limit the rest is read and dropped, then refused
    });
    req.on('end', () => {
      if (size > maxBytes) return reject(new HttpError(413, `a request body over ${maxBytes} bytes (http.max_body_bytes)`));
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `the body is not JSON: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}
