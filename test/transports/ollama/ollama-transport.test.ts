// The Ollama-compatible HTTP API against a real daemon on a synthetic model, with the requests Home
// Assistant's Ollama integration sends (its config flow's /api/tags, then /api/chat streaming with its
// tools, and an AI Task with a JSON schema), and what other Ollama clients rely on.
import test from 'ava';
import { Ajv } from 'ajv';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { OllamaChatChunk, OllamaModelEntry } from '../../../daemon/transports/ollama/protocol.js';
import { Daemon } from '../../helpers/daemon.js';
import { freePort } from '../../helpers/mosquitto.js';
import { CLI } from '../../helpers/paths.js';
import { syntheticModel } from '../../helpers/models.js';

const execFileAsync = promisify(execFile);
const cleanups: (() => Promise<unknown>)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function server(http: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<{ d: Daemon; url: string }> {
  const port = await freePort();
  const d = await Daemon.start({ model: await syntheticModel('tiny', 'official'), config: { ...config, http: { port, ...http } } });
  cleanups.push(() => d.stop());
  return { d, url: `http://127.0.0.1:${port}` };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function ndjson<T>(res: Response): Promise<T[]> {
  return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

// What HA's Ollama integration sends for a conversation with "control Home Assistant" on: its Assist
// tools in Ollama's function format, and the system prompt with the exposed entities.
const HA_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'HassTurnOn',
      description: 'Turns on/opens a device or entity',
      parameters: { type: 'object', properties: { name: { type: 'string' }, area: { type: 'string' }, domain: { type: 'array', items: { type: 'string', enum: ['light', 'switch', 'fan'] } } }, required: [] },
    },
  },
  {
    type: 'function',
    function: { name: 'HassTurnOff', description: 'Turns off/closes a device or entity', parameters: { type: 'object', properties: { name: { type: 'string' }, area: { type: 'string' } }, required: [] } },
  },
  { type: 'function', function: { name: 'GetLiveContext', description: 'Provides real-time information', parameters: { type: 'object', properties: {} } } },
];
const HA_SYSTEM = 'You are a voice assistant for Home Assistant.\nAnswer questions about the world truthfully.\nStatic Context: An overview of the areas and the devices in this smart home:\n- names: Kitchen Light\n  domain: light\n  areas: Kitchen\n';

test('Home Assistant\'s sequence: /api/tags lists the model with a tag, then /api/chat streams with tools, never a 500', async (t) => {
  const { d, url } = await server();
  const root = await fetch(`${url}/`);
  t.is(await root.text(), 'Ollama is running');
  const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: OllamaModelEntry[] };
  t.is(tags.models.length, 1);
  const m = tags.models[0]!;
  t.is(m.name, 'bitnet-b1.58-2b-4t:latest', 'an explicit :latest, so HA does not pull');
  t.true(m.size > 0);
  t.regex(m.digest, /^[0-9a-f]{64}$/);
  t.like(m.details, { format: 'gguf', family: 'bitnet', quantization_level: 'I2_S' });
  t.truthy(((await (await fetch(`${url}/api/ps`)).json()) as { models: unknown[] }).models[0]);

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const res = await post(`${url}/api/chat`, {
      model: m.name,
      messages: [{ role: 'system', content: HA_SYSTEM }, { role: 'user', content: 'Turn on the kitchen light' }],
      tools: HA_TOOLS,
      stream: true,
      keep_alive: -1,
      options: { num_ctx: 8192, num_predict: 24, seed },
    });
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const chunks = await ndjson<OllamaChatChunk>(res);
    const last = chunks.at(-1)!;
    t.true(last.done);
    t.true(['stop', 'length'].includes(last.done_reason!));
    t.true(last.eval_count! > 0 && last.total_duration! > 0 && last.prompt_eval_count! > 0, 'nanosecond timings and counts');
    t.true(chunks.slice(0, -1).every((c) => !c.done && c.message.role === 'assistant'));
    const calls = chunks.flatMap((c) => c.message.tool_calls ?? []);
    const text = chunks.map((c) => c.message.content).join('');
    for (const call of calls) {
      t.true(HA_TOOLS.some((tool) => tool.function.name === call.function.name), `a call of a known tool: ${call.function.name}`);
      t.is(typeof call.function.arguments, 'object');
    }
    if (!calls.length) t.false(text.trimStart().startsWith('{'), 'a plain answer, not a half tool call');
  }
  const capped = d.logs.filter((l) => /num_ctx 8192 is more than this model's context/.test(l.message));
  t.deepEqual(capped.map((l) => l.level), ['info'], 'the num_ctx cap is logged once at info, not on every turn');
});

test('an AI Task with a JSON schema: the answer parses and matches it, streamed or not', async (t) => {
  const { url } = await server();
  const schema = {
    type: 'object',
    properties: { summary: { type: 'string', maxLength: 40 }, rooms: { type: 'array', items: { type: 'string', enum: ['kitchen', 'hall'] } }, lights_on: { type: 'integer' } },
    required: ['summary', 'lights_on'],
  };
  const validate = new Ajv().compile(schema);
  for (const [stream, seed] of [[false, 1], [true, 2], [false, 3]] as const) {
    const res = await post(`${url}/api/chat`, { model: 'bitnet-b1.58-2b-4t', messages: [{ role: 'user', content: 'Summarise the house as JSON' }], format: schema, stream, options: { num_predict: 30, seed } });
    t.is(res.status, 200);
    const chunks = stream ? await ndjson<OllamaChatChunk>(res) : [(await res.json()) as OllamaChatChunk];
    const text = chunks.map((c) => c.message.content).join('');
    const value = JSON.parse(text) as unknown;
    t.true(validate(value), `${text}: ${JSON.stringify(validate.errors)}`);
  }
  const json = (await (await post(`${url}/api/chat`, { model: 'bitnet-b1.58-2b-4t', messages: [{ role: 'user', content: 'JSON please' }], format: 'json', stream: false, options: { num_predict: 12 } })).json()) as OllamaChatChunk;
  t.is(typeof JSON.parse(json.message.content), 'object', '"json" format: an object');
});

test('/api/generate streams responses; /api/show describes the model; an empty prompt only "loads"; /api/pull succeeds', async (t) => {
  const { url } = await server();
  const chunks = await ndjson<{ response: string; done: boolean; done_reason?: string; eval_count?: number }>(
    await post(`${url}/api/generate`, { model: 'bitnet-b1.58-2b-4t:latest', prompt: 'Once upon a time', options: { num_predict: 5, temperature: 0 } }),
  );
  t.is(chunks.at(-1)!.eval_count, 5);
  t.is(chunks.at(-1)!.done_reason, 'length');
  t.true(chunks.slice(0, -1).every((c) => !c.done && typeof c.response === 'string'));
  const show = (await (await post(`${url}/api/show`, { model: 'bitnet-b1.58-2b-4t' })).json()) as { capabilities: string[]; model_info: Record<string, unknown> };
  t.deepEqual(show.capabilities, ['completion', 'tools']);
  t.is(show.model_info['general.architecture'], 'bitnet-b1.58');
  const load = (await (await post(`${url}/api/generate`, { model: 'bitnet-b1.58-2b-4t' })).json()) as { done: boolean; done_reason: string };
  t.like(load, { done: true, done_reason: 'load' });
  const pulled = await ndjson<{ status: string }>(await post(`${url}/api/pull`, { model: 'bitnet-b1.58-2b-4t:latest' }));
  t.is(pulled.at(-1)!.status, 'success', 'HA pulls a model it does not see in /api/tags; this one is there');
  t.deepEqual(await (await post(`${url}/api/pull`, { name: 'bitnet-b1.58-2b-4t', stream: false })).json(), { status: 'success' });
});

test('errors as Ollama gives them: an unknown model is 404 "try pulling it first", bad bodies 400, nothing crashes', async (t) => {
  const { d, url } = await server();
  const unknown = await post(`${url}/api/chat`, { model: 'llama3.2:latest', messages: [{ role: 'user', content: 'hi' }] });
  t.is(unknown.status, 404);
  t.regex(((await unknown.json()) as { error: string }).error, /model "llama3.2:latest" not found, try pulling it first/);
  const notJson = await fetch(`${url}/api/chat`, { method: 'POST', body: '{"model": ' });
  t.is(notJson.status, 400);
  const badOption = await post(`${url}/api/chat`, { model: 'bitnet-b1.58-2b-4t', messages: [{ role: 'user', content: 'hi' }], options: { temperature: -1 } });
  t.is(badOption.status, 400);
  t.regex(((await badOption.json()) as { error: string }).error, /temperature must be >= 0/);
  t.is((await fetch(`${url}/api/nothing`)).status, 404);
  t.is((await fetch(`${url}/api/chat`)).status, 405);
  t.is((await post(`${url}/api/delete`, { model: 'x' })).status, 404, 'DELETE is its method');
  const status = await fetch(`${url}/api/tags`);
  t.is(status.status, 200, 'still serving');
  t.false(d.logs.some((l) => l.level === 'error'));
});

test('/api/pull never fetches a URL or touches a path the client names: anything but the served model is 404', async (t) => {
  const { url } = await server();
  let fetched = 0;
  const lure = createServer((sock) => {
    fetched++;
    sock.destroy();
  });
  await new Promise<void>((resolve) => lure.listen(0, '127.0.0.1', resolve));
  const lureUrl = `http://127.0.0.1:${(lure.address() as AddressInfo).port}/model.gguf`;
  for (const model of [lureUrl, '/etc/passwd', '../../../../etc/shadow', 'hf.co/microsoft/bitnet-b1.58-2B-4T-gguf', 'file:///etc/passwd']) {
    const res = await post(`${url}/api/pull`, { model, insecure: true, stream: false });
    t.is(res.status, 404, model);
    t.regex(((await res.json()) as { error: string }).error, /not found/, model);
  }
  lure.close();
  t.is(fetched, 0, 'nothing was fetched');
});

test('with http.token, requests need the bearer token, which is never logged; a client hanging up mid-answer cancels it', async (t) => {
  const { d, url } = await server({ token: 's3cret' }, { log: { level: 'debug' } });
  t.is((await fetch(`${url}/api/tags`)).status, 401);
  t.is((await fetch(`${url}/api/tags`, { headers: { authorization: 'Bearer s3cret-wrong' } })).status, 401);
  t.is((await fetch(`${url}/api/tags`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
  const abort = new AbortController();
  const res = await post(`${url}/api/chat`, { model: 'bitnet-b1.58-2b-4t', messages: [{ role: 'user', content: 'Tell me a long story' }], options: { num_predict: 100000, seed: 1 } }, { authorization: 'Bearer s3cret' });
  const reader = res.body!.getReader();
  await reader.read(); // the first chunk: it is running
  abort.abort();
  await reader.cancel();
  const done = await d.waitForLog((l) => l.message === 'request done' && l['stop'] === 'cancelled', 30_000);
  t.true((done['tokens'] as number) < 100000);
  t.true(d.logs.some((l) => l.level === 'debug'), 'logging at debug level');
  t.false(d.stderr.includes('s3cret'), 'the token is in no log line, at debug level either');
  const printed = await execFileAsync(process.execPath, [CLI, 'config', '--print', '--config', d.configFile]);
  t.false(printed.stdout.includes('s3cret'), 'nor in config --print');
});

/** A GET with the headers a browser would send (fetch may not set Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a web page cannot use the API through a browser: foreign origins and, on loopback, foreign host names are refused', async (t) => {
  const { url } = await server({ origins: ['https://ha.example.org:8123'] });
  const host = new URL(url).host;
  t.is((await rawGet(`${url}/api/tags`, {})).status, 200, 'no Origin: not a browser (Home Assistant, curl)');
  t.is((await rawGet(`${url}/api/tags`, { origin: 'http://localhost:8123' })).status, 200, 'a page on this machine');
  t.is((await rawGet(`${url}/api/tags`, { origin: 'https://ha.example.org:8123' })).status, 200, 'an origin in http.origins');
  const evil = await rawGet(`${url}/api/tags`, { origin: 'https://evil.example' });
  t.is(evil.status, 403);
  t.regex(evil.body, /a web page of https:\/\/evil\.example may not use this API \(allow it in http\.origins\)/);
  t.is((await rawGet(`${url}/api/tags`, { origin: 'null' })).status, 403, 'a file or sandboxed page');
  const rebound = await rawGet(`${url}/api/tags`, { host: `evil.example:${host.split(':')[1]}` });
  t.is(rebound.status, 403, 'DNS rebinding: a foreign name resolved to 127.0.0.1');
  t.regex(rebound.body, /answers only to a loopback host name/);
  t.is((await rawGet(`${url}/api/tags`, { host: `localhost:${host.split(':')[1]}` })).status, 200);
});

test('beyond loopback without http.token a warning says anyone on the network can use the model', async (t) => {
  const { d, url } = await server({ host: '0.0.0.0' });
  const warning = d.logs.find((l) => l.level === 'warn' && l.message.startsWith('http: listening beyond loopback without http.token'));
  t.truthy(warning);
  const port = new URL(url).port;
  t.is((await rawGet(`http://127.0.0.1:${port}/api/tags`, { host: `bitnetd.lan:${port}` })).status, 200, 'beyond loopback any host name is served');
  const withToken = await server({ host: '0.0.0.0', token: 'x' });
  t.falsy(withToken.d.logs.find((l) => l.message.startsWith('http: listening beyond loopback')), 'with a token, no warning');
});
