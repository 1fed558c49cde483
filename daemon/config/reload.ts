// What a reload (SIGHUP) applies: the settings listed here, once; every other one only a restart applies
// (a new transport's settings included), and a reload warns about each that changed and keeps its
// running value.
import type { Config } from './schema.js';

/** Applied by a reload: dotted keys, a section meaning everything in it. */
export const RELOADABLE = ['log', 'queue', 'generation', 'model.threads', 'power.budget_watts', 'power.max_temp_c', 'shutdown'] as const;

const reloadable = (key: string) => RELOADABLE.some((r) => key === r || key.startsWith(`${r}.`));

/** The restart-only settings (dotted keys) whose value differs between the two. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  const a = leaves(running);
  const b = leaves(next);
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => !reloadable(key) && a.get(key) !== b.get(key));
}

/** The running settings with the reloadable ones taken from the reloaded. */
export function applyReload(running: Config, next: Config): Config {
  const kept = structuredClone(running) as unknown as Record<string, unknown>;
  for (const key of RELOADABLE) {
    const parts = key.split('.');
    const last = parts.pop()!;
    const parent = parts.reduce((node, part) => node[part] as Record<string, unknown>, kept);
    parent[last] = structuredClone(pick(next, key));
  }
  return kept as unknown as Config;
}

/** Every setting by dotted key, its value as JSON (a list is one setting). */
function leaves(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(value));
  return out;
}

function pick(config: Config, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}
