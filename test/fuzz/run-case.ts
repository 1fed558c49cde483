// One fuzz case: the real loader on a (damaged) model file, in a child process with a time and memory
// limit: `bitnetd info`, then a 2-token `bitnetd generate` if the file loaded. A refusal must be the
// loader's clear error naming the file; a signal, a hang, an unclear error or a peak RSS over the limit
// is a failure.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI } from '../helpers/paths.js';

export interface CaseLimits {
  timeoutMs: number;
  maxRssBytes: number;
}

export type Outcome =
  | { kind: 'loaded' | 'refused'; detail: string; peakRss: number }
  | { kind: 'signal' | 'timeout' | 'rss' | 'unclear'; detail: string; peakRss: number };

export const DEFAULT_LIMITS: CaseLimits = { timeoutMs: 30_000, maxRssBytes: 2e9 };

/** What running a command on the file came to. */
function runCli(args: string[], file: string, limits: CaseLimits): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    let stopped: 'timeout' | 'rss' | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).length > 65536 && (stderr = stderr.slice(-65536)));
    const watch = setInterval(() => {
      try {
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        peak = Math.max(peak, rss);
        if (rss > limits.maxRssBytes && !stopped) {
          stopped = 'rss';
          child.kill('SIGKILL');
        }
      } catch {
        // exited between two looks
      }
    }, 20);
    const timer = setTimeout(() => {
      stopped ??= 'timeout';
      child.kill('SIGKILL');
    }, limits.timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      const lastLine = stderr.trim().split('\n').at(-1) ?? '';
      if (stopped === 'rss') return resolve({ kind: 'rss', detail: `resident memory passed ${limits.maxRssBytes} bytes`, peakRss: peak });
      if (stopped === 'timeout') return resolve({ kind: 'timeout', detail: `no answer in ${limits.timeoutMs} ms`, peakRss: peak });
      if (signal) return resolve({ kind: 'signal', detail: `${signal}: ${stderr.slice(-2000)}`, peakRss: peak });
      if (code === 0) return resolve({ kind: 'loaded', detail: '', peakRss: peak });
      const clear = /^bitnetd: /.test(lastLine) && lastLine.includes(file) && !/TypeError|RangeError|ReferenceError|Maximum call stack|bad_alloc|std::|internal/.test(stderr);
      resolve({ kind: clear ? 'refused' : 'unclear', detail: lastLine || stderr.slice(-2000), peakRss: peak });
    });
  });
}

export async function runCase(file: string, limits: CaseLimits = DEFAULT_LIMITS): Promise<Outcome> {
  const info = await runCli(['info', file, '--json'], file, limits);
  if (info.kind !== 'loaded') return info;
  const generated = await runCli(['generate', '-m', file, '-p', 'Hi', '-n', '2', '--seed', '1', '--stats', 'none'], file, limits);
  return { ...generated, peakRss: Math.max(info.peakRss, generated.peakRss) };
}

export const isFailure = (o: Outcome): boolean => o.kind !== 'loaded' && o.kind !== 'refused';
