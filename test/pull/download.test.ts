// Model downloads against a real local HTTP server serving a synthetic model file: a whole download,
// one that breaks off and resumes by Range, a server that ignores Range, a wrong digest, a 404, and
// the CLI and the daemon's auto_pull doing it.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pullModel } from '../../daemon/pull/download.js';
import { Daemon } from '../helpers/daemon.js';
import { syntheticModel } from '../helpers/models.js';
import { CLI } from '../helpers/paths.js';

const run = promisify(execFile);

interface Served {
  url: string;
  requests: { range: string | undefined }[];
  close: () => Promise<void>;
}

/** Serves `body` with Hugging Face's headers; `breakAfter` bytes into the first full response it hangs up. */
async function serve(body: Buffer, opts: { breakAfter?: number; ignoreRange?: boolean; etag?: string } = {}): Promise<Served> {
  const requests: { range: string | undefined }[] = [];
  let broke = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ range: req.headers.range });
    if (req.url !== '/model.gguf') return void res.writeHead(404).end('not found');
    const etag = opts.etag ?? createHash('sha256').update(body).digest('hex');
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !opts.ignoreRange ? Number(m[1]) : 0;
    if (start >= body.length && start > 0) return void res.writeHead(416).end();
    const part = body.subarray(start);
    res.writeHead(start ? 206 : 200, {
      'content-length': part.length,
      'x-linked-etag': `"${etag}"`,
      ...(start ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (opts.breakAfter !== undefined && !broke) {
      broke = true;
      res.write(part.subarray(0, opts.breakAfter), () => res.socket?.destroy());
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/model.gguf`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

const modelBytes = async () => readFileSync(await syntheticModel('micro', 'official'));
const dest = () => join(mkdtempSync(join(tmpdir(), 'bitnetd-pull-')), 'models', 'ggml-model-i2_s.gguf');

test('a whole download: the same bytes, checked against the ETag digest, renamed into place, digest kept beside', async (t) => {
  const body = await modelBytes();
  const s = await serve(body);
  const path = dest();
  const phases = new Set<string>();
  const r = await pullModel({ url: s.url, dest: path, onProgress: (p) => phases.add(p.phase) });
  await s.close();
  t.true(readFileSync(path).equals(body));
  t.true(r.verified);
  t.false(r.resumed);
  t.is(r.sha256, createHash('sha256').update(body).digest('hex'));
  t.false(existsSync(`${path}.partial`));
  t.regex(readFileSync(`${path}.sha256`, 'utf8'), new RegExp(`^${r.sha256}  ${body.length}:`));
  t.deepEqual([...phases], ['downloading', 'verifying']);
});

test('a download that breaks off resumes with a Range request and ends with the same bytes', async (t) => {
  const body = await modelBytes();
  const s = await serve(body, { breakAfter: Math.floor(body.length / 3) });
  const path = dest();
  const r = await pullModel({ url: s.url, dest: path });
  await s.close();
  t.true(r.resumed);
  t.true(readFileSync(path).equals(body));
  t.is(s.requests.length, 2);
  t.regex(s.requests[1]!.range ?? '', /^bytes=\d+-$/);
  t.true(Number(/\d+/.exec(s.requests[1]!.range!)![0]) > 0);
});

test('a server that ignores Range: the partial file is dropped and the download starts over, correctly', async (t) => {
  const body = await modelBytes();
  const s = await serve(body, { breakAfter: 1000, ignoreRange: true });
  const path = dest();
  const r = await pullModel({ url: s.url, dest: path });
  await s.close();
  t.true(readFileSync(path).equals(body));
  t.true(r.verified);
});

test('a wrong digest: an error that says so, the partial file deleted, nothing at the model path', async (t) => {
  const body = await modelBytes();
  const s = await serve(body, { etag: 'a'.repeat(64) });
  const path = dest();
  await t.throwsAsync(pullModel({ url: s.url, dest: path }), { message: /sha256 is [0-9a-f]{64}, not the expected a{64}: it was corrupted or the file changed/ });
  await t.throwsAsync(pullModel({ url: s.url, dest: path, sha256: 'b'.repeat(64) }), { message: /not the expected b{64}/ });
  await s.close();
  t.false(existsSync(path));
  t.false(existsSync(`${path}.partial`));
});

test('a 404 and an unreachable server are errors a person can act on', async (t) => {
  const s = await serve(Buffer.from('x'));
  await t.throwsAsync(pullModel({ url: s.url.replace('model.gguf', 'other.gguf'), dest: dest() }), { message: /answered 404 Not Found \(wrong URL\?\)/ });
  await s.close();
  await t.throwsAsync(pullModel({ url: s.url, dest: dest(), retries: 0 }), { message: /cannot reach http:\/\/127\.0\.0\.1:\d+\/model\.gguf/ });
});

test('bitnetd pull downloads to model.path; serve with model.auto_pull downloads the missing model, then serves it', async (t) => {
  const body = await modelBytes();
  const s = await serve(body);
  const path = dest();
  const { stderr } = await run(process.execPath, [CLI, 'pull', s.url, '--model', path]);
  t.regex(stderr, /downloaded \d+ MB, sha256 [0-9a-f]{64} \(checked\)/);
  t.true(readFileSync(path).equals(body));

  const missing = dest();
  const d = await Daemon.start({ model: missing, config: { model: { auto_pull: true, url: s.url } } });
  try {
    t.true(readFileSync(missing).equals(body));
    t.truthy(d.logs.find((l) => l.message === 'model downloaded' && l['checked'] === true));
  } finally {
    await d.stop();
    await s.close();
  }
});
