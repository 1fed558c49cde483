// Downloads the model file, as Ollama pulls models: into "<dest>.partial", resumed with an HTTP Range
// request after an interruption, hashed with sha256 on the way and checked against the expected digest
// (given, or the one Hugging Face sends as the ETag of a large file), then renamed into place in one
// step, so that a half-written file never sits at the model's path. "<dest>.sha256" keeps the digest.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, fsyncSync, renameSync, rmSync, statSync, writeSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const OFFICIAL_MODEL_URL = 'https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf/resolve/main/ggml-model-i2_s.gguf';

export interface PullProgress {
  /** Bytes of the whole file, when the server says. */
  total: number | undefined;
  completed: number;
  /** What is happening: resuming, downloading, verifying. */
  phase: 'resuming' | 'downloading' | 'verifying';
}

export interface PullOptions {
  url: string;
  dest: string;
  /** The expected sha256 (hex); else the server's ETag when it is one, else none (reported as unchecked). */
  sha256?: string;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** Attempts after a broken connection, each resuming where the last stopped (default 5). */
  retries?: number;
}

export interface PullResult {
  path: string;
  sha256: string;
  bytes: number;
  /** False when no expected digest was known to compare with. */
  verified: boolean;
  resumed: boolean;
}

export class PullError extends Error {
  override name = 'PullError';
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A sha256 the server names for the file: Hugging Face's X-Linked-Etag or ETag of an LFS file. */
function serverDigest(res: Response): string | undefined {
  for (const h of ['x-linked-etag', 'etag']) {
    const v = res.headers.get(h)?.replace(/^W\//, '').replaceAll('"', '').toLowerCase();
    if (v && SHA256.test(v)) return v;
  }
  return undefined;
}

async function hashExisting(path: string, hash: Hash): Promise<number> {
  if (!existsSync(path)) return 0;
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const partial = `${o.dest}.partial`;
  mkdirSync(dirname(o.dest), { recursive: true });
  const retries = o.retries ?? 5;
  let expected = o.sha256?.toLowerCase();
  if (expected !== undefined && !SHA256.test(expected)) throw new PullError(`the expected sha256 must be 64 hex digits (got "${o.sha256}")`);
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    const hash = createHash('sha256');
    if (existsSync(partial)) o.onProgress?.({ total: undefined, completed: statSync(partial).size, phase: 'resuming' });
    const have = await hashExisting(partial, hash);
    let res: Response;
    try {
      res = await fetch(o.url, { headers: have ? { range: `bytes=${have}-` } : {}, ...(o.signal ? { signal: o.signal } : {}) });
    } catch (err) {
      if (o.signal?.aborted) throw new PullError('the download was cancelled');
      if (attempt < retries) continue;
      throw new PullError(`cannot reach ${o.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    expected ??= serverDigest(res);
    if (res.status === 416 && have > 0) {
      // Everything is there already (the range starts at the end): verify what was downloaded.
      return finish(o, partial, hash, have, expected, resumed);
    }
    if (res.status !== 200 && res.status !== 206) {
      throw new PullError(`${o.url}: the server answered ${res.status} ${res.statusText}${res.status === 404 ? ' (wrong URL?)' : ''}`);
    }
    let completed = have;
    if (res.status === 200 && have > 0) {
      rmSync(partial); // the server ignored the range: start again
      completed = 0;
      hash.destroy();
      return pullAgain(o, attempt, retries);
    }
    resumed ||= res.status === 206;
    const length = Number(res.headers.get('content-length'));
    const ofRange = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
    const total = ofRange > 0 ? ofRange : Number.isFinite(length) && length > 0 ? completed + length : undefined;
    const fd = openSync(partial, 'a');
    let broken: unknown;
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        writeSync(fd, value);
        hash.update(value);
        completed += value.length;
        o.onProgress?.({ total, completed, phase: 'downloading' });
      }
      fsyncSync(fd);
    } catch (err) {
      broken = err;
    } finally {
      closeSync(fd);
    }
    if (broken !== undefined || (total !== undefined && completed < total)) {
      if (o.signal?.aborted) throw new PullError(`the download was cancelled; ${completed} bytes kept in ${partial} for the next attempt`);
      if (attempt < retries) continue; // resume where it stopped
      throw new PullError(`the connection broke after ${completed} bytes; they are kept in ${partial}: run again to resume`);
    }
    return finish(o, partial, hash, completed, expected, resumed);
  }
}

/** The server would not resume: one fresh attempt with the attempts left. */
function pullAgain(o: PullOptions, attempt: number, retries: number): Promise<PullResult> {
  return pullModel({ ...o, retries: Math.max(0, retries - attempt - 1) });
}

async function finish(o: PullOptions, partial: string, hash: Hash, bytes: number, expected: string | undefined, resumed: boolean): Promise<PullResult> {
  o.onProgress?.({ total: bytes, completed: bytes, phase: 'verifying' });
  const sha256 = hash.digest('hex');
  if (expected && sha256 !== expected) {
    rmSync(partial, { force: true });
    throw new PullError(`the download's sha256 is ${sha256}, not the expected ${expected}: it was corrupted or the file changed; it was deleted, run again`);
  }
  renameSync(partial, o.dest);
  const st = statSync(o.dest);
  // The digest beside the file, in the form ModelDigest reads (so /api/tags need not hash 1.2 GB again).
  writeFileSync(`${o.dest}.sha256`, `${sha256}  ${st.size}:${Math.floor(st.mtimeMs)}\n`);
  return { path: o.dest, sha256, bytes, verified: expected !== undefined, resumed };
}
