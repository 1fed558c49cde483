// Where tests find the repository, the reference files and their generated fixtures.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run compiled from dist/test/...). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** ../shared/ref beside the checkout, or BITNETD_REF_DIR. */
export function refDir(): string {
  const dir = process.env['BITNETD_REF_DIR'] ?? resolve(ROOT, '../shared/ref');
  if (!existsSync(join(dir, 'synth-tiny-i2_s.ref.json'))) {
    throw new Error(`reference files not found in ${dir}; set BITNETD_REF_DIR to the shared/ref folder`);
  }
  return dir;
}

/** Generated test models live here, outside git, and are reused between runs. */
export const FIXTURE_DIR = join(ROOT, '.cache', 'test-models');

export const CLI = join(ROOT, 'dist', 'daemon', 'cli.js');
