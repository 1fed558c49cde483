// Fake sysfs and /proc trees for the power sources: real files in a temporary folder, and a clock and a
// command runner the test controls.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PowerEnv } from '../../daemon/power/power-env.js';

export interface FakeTree {
  env: PowerEnv;
  /** Writes a file under the fake /sys ('sys/...') or /proc ('proc/...'). */
  write(path: string, text: string | number): void;
  /** Moves the fake clock forward. */
  advance(ms: number): void;
  /** Replaces what `run` returns (or throws, when given an Error). */
  onRun(fn: (cmd: string, args: string[]) => string): void;
  remove(): void;
}

export function fakeTree(): FakeTree {
  const root = mkdtempSync(join(tmpdir(), 'bitnetd-power-'));
  let clock = 1000;
  let runner: (cmd: string, args: string[]) => string = (cmd) => {
    throw new Error(`${cmd}: not found`);
  };
  return {
    env: {
      sysRoot: join(root, 'sys'),
      procRoot: join(root, 'proc'),
      run: async (cmd, args) => runner(cmd, args),
      now: () => clock,
    },
    write(path, text) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${text}\n`);
    },
    advance(ms) {
      clock += ms;
    },
    onRun(fn) {
      runner = fn;
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
