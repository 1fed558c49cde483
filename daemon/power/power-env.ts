// Where the power sources read from. Everything is injectable so that tests run on fake sysfs and /proc
// trees, a captured vcgencmd text and a fake clock; production uses the defaults.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PowerEnv {
  sysRoot: string;
  procRoot: string;
  /** Runs a command and resolves to its stdout; rejects when it cannot run or fails. */
  run: (cmd: string, args: string[]) => Promise<string>;
  /** Milliseconds on a monotonic clock. */
  now: () => number;
}

export function defaultPowerEnv(): PowerEnv {
  return {
    sysRoot: '/sys',
    procRoot: '/proc',
    run: (cmd, args) =>
      new Promise((resolve, reject) => {
        execFile(cmd, args, { encoding: 'utf8', timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      }),
    now: () => performance.now(),
  };
}

/** A sysfs or procfs file's text, trimmed; undefined when it is missing or unreadable. */
export function readText(root: string, ...path: string[]): string | undefined {
  try {
    return readFileSync(join(root, ...path), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A file holding one number; undefined when missing, unreadable or not a finite number. */
export function readNumber(root: string, ...path: string[]): number | undefined {
  const text = readText(root, ...path);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A folder's entries; empty when it is missing or unreadable. */
export function listDir(root: string, ...path: string[]): string[] {
  try {
    return readdirSync(join(root, ...path));
  } catch {
    return [];
  }
}
