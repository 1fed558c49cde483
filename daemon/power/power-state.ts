// Power limits changed at run time (an MQTT or socket command) survive a restart: they are kept in a
// small JSON file in the state directory and take precedence over the configuration file's values.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PowerOverrides {
  /** null: no budget (a run-time "off" also outranks the configuration file). */
  budget_watts?: number | null;
  max_temp_c?: number | null;
  /** A cap on the compute threads below model.threads (null: none). */
  max_threads?: number | null;
}

const isLimit = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

/** The saved overrides; {} when the file is missing. A file that cannot be used is an error naming it. */
export function loadPowerOverrides(path: string): PowerOverrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${path}: cannot read the saved power limits (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: the saved power limits are not JSON (${(err as Error).message}); delete the file to start from the configuration`);
  }
  const out: PowerOverrides = {};
  const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  for (const key of ['budget_watts', 'max_temp_c', 'max_threads'] as const) {
    if (!(key in obj)) continue;
    if (!isLimit(obj[key])) throw new Error(`${path}: ${key} must be a number >= 0 or null; delete the file to start from the configuration`);
    out[key] = obj[key] as number | null;
  }
  return out;
}

/** Writes the overrides atomically (a crash leaves the old file or the new one, never half of one). */
export function savePowerOverrides(path: string, overrides: PowerOverrides): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(overrides, null, 2) + '\n');
  renameSync(tmp, path);
}
