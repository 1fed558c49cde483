// The command line as a user runs it: real processes, real files.
import test from 'ava';
import { loadAddon } from '../../daemon/engine/index.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, ROOT } from '../helpers/paths.js';
import { cosine, loadReference, maxAbsDiff, referenceLastLogits, referenceModelPath } from '../helpers/reference.js';

const run = promisify(execFile);
const MODEL = referenceModelPath();
const dir = mkdtempSync(join(tmpdir(), 'bitnetd-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

async function bitnetd(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 });
}

test('tokenize prints the reference ids', async (t) => {
  const run0 = loadReference().runs[0]!;
  const { stdout } = await bitnetd('tokenize', '-m', MODEL, run0.prompt);
  t.deepEqual(JSON.parse(stdout), run0.prompt_ids);
});

test('logits: one JSON line per position, and the full last row in a file', async (t) => {
  const ref = loadReference();
  const run1 = ref.runs.find((r) => r.prompt_eval === 'single_batch' && r.prompt.startsWith('The capital'))!;
  const out = join(dir, 'last.f32');
  const { stdout } = await bitnetd('logits', '-m', MODEL, '--ids', run1.prompt_ids.join(','), '--top', '5', '-t', '2', '--out', out);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { pos: number; id: number; top: [number, number][] });
  t.is(lines.length, run1.prompt_ids.length);
  t.is(lines.at(-1)!.top.length, 5);
  t.is(lines.at(-1)!.top[0]![0], run1.last_prompt_top10[0]![0]);
  const buf = readFileSync(out);
  const ours = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const theirs = referenceLastLogits(1);
  t.true(maxAbsDiff(ours, theirs) <= 0.06);
  t.true(cosine(ours, theirs) >= 0.9993);
});

test('generate streams text and prints JSON stats on stderr', async (t) => {
  const { stdout, stderr } = await bitnetd('generate', '-m', MODEL, '-p', 'Hello', '-n', '5', '--temperature', '0', '--ignore-eos', '--stats', 'json');
  const stats = JSON.parse(stderr.trim().split('\n').at(-1)!) as Record<string, unknown>;
  t.is(stats['generated_tokens'], 5);
  t.is(stats['stop_reason'], 'length');
  t.true((stats['prompt_tokens'] as number) > 3);
  t.true((stats['decode_tokens_per_s'] as number) > 0 && (stats['prefill_tokens_per_s'] as number) > 0);
  t.true(stdout.length > 1);
});

test('generate with the same seed prints the same text', async (t) => {
  const args = ['generate', '-m', MODEL, '-p', 'Tell me a story', '-n', '8', '--seed', '11', '--ignore-eos', '--stats', 'none'];
  const a = await bitnetd(...args);
  const b = await bitnetd(...args);
  t.is(a.stdout, b.stdout);
});

test('info shows shapes, types and metadata', async (t) => {
  const { stdout } = await bitnetd('info', MODEL);
  t.regex(stdout, /architecture {2}bitnet-b1\.58/);
  t.regex(stdout, /layers {8}4/);
  t.regex(stdout, new RegExp(`kernel {8}(${loadAddon().kernels.join('|')})\n`), 'the kernel in use is named');
  t.regex(stdout, /blk\.0\.attn_q\.weight\s+I2_S\s+\{256, 256\}/);
  t.true(stdout.includes(`node          ${process.version} ${process.execPath}\n`), 'the Node runtime in use is named');
  const json = JSON.parse((await bitnetd('info', MODEL, '--json')).stdout) as { hparams: { nHeadKv: number }; tensors: unknown[] };
  t.is(json.hparams.nHeadKv, 2);
  t.is(json.tensors.length, 2 + 11 * 4, 'embedding, output norm, and 11 tensors per layer');
  t.is((await bitnetd('info', '-m', MODEL)).stdout, stdout, 'info takes -m as every other command does');
  const none = await t.throwsAsync(bitnetd('info'));
  t.regex((none as Error & { stderr: string }).stderr, /which model\? bitnetd info MODEL, or bitnetd info -m MODEL/);
  const two = await t.throwsAsync(bitnetd('info', MODEL, '-m', join(dir, 'other.gguf')));
  t.regex((two as Error & { stderr: string }).stderr, /two model files given/);
});

test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  t.is((await bitnetd('--version')).stdout.trim(), version);
  t.is((await bitnetd('-V')).stdout.trim(), version);
});

test('chat answers each line of piped stdin, then exits', async (t) => {
  const child = execFile(process.execPath, [CLI, 'chat', '-m', MODEL, '-n', '4', '--temperature', '0', '--ignore-eos']);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin!.end('Hi\nWhat next?\n/exit\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0);
  t.is(out.split('\n').filter((l) => l.trim().length > 0).length, 2, out);
});

test('bad input gives a clear error and a failing exit status', async (t) => {
  const missing = await t.throwsAsync(bitnetd('info', join(dir, 'missing.gguf')));
  t.regex((missing as Error & { stderr: string }).stderr, /^bitnetd: .*missing\.gguf: no such file/m);
  const badIds = await t.throwsAsync(bitnetd('logits', '-m', MODEL, '--ids', '1,x'));
  t.regex((badIds as Error & { stderr: string }).stderr, /expected comma-separated non-negative token ids/);
  const outOfVocab = await t.throwsAsync(bitnetd('logits', '-m', MODEL, '--ids', '128000,999999'));
  t.regex((outOfVocab as Error & { stderr: string }).stderr, /token id 999999 is outside the vocabulary/);
  const badTemp = await t.throwsAsync(bitnetd('generate', '-m', MODEL, '-p', 'x', '--temperature', 'hot'));
  t.regex((badTemp as Error & { stderr: string }).stderr, /--temperature.*expected a number/);
  // The range is the request check's, the same as on every transport.
  const hotTemp = await t.throwsAsync(bitnetd('generate', '-m', MODEL, '-p', 'x', '--temperature', '500'));
  t.regex((hotTemp as Error & { stderr: string }).stderr, /^bitnetd: --temperature must be <= 100/m);
});
