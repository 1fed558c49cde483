// What a reload (SIGHUP) may change. The settings that only a restart applies are listed once: a reload
// warns about each that changed and keeps its running value.
import type { Config } from './schema.js';

export const RESTART_ONLY = [
  'node_id',
  'model.path',
  'model.head',
  'model.context',
  'cache',
  'mqtt',
  'socket',
  'http',
  'wyoming',
  'power.source',
  'power.model',
  'power.interval_ms',
  'power.state_file',
] as const;

/** The restart-only settings whose value differs between the two. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter((key) => JSON.stringify(pick(running, key)) !== JSON.stringify(pick(next, key)));
}

/** The reloaded settings, except those only a restart applies, which keep their running values. */
export function keepRestartOnly(running: Config, next: Config): Config {
  const kept = structuredClone(next);
  for (const key of RESTART_ONLY) {
    const parts = key.split('.');
    const last = parts.pop()!;
    const parent = parts.reduce<Record<string, unknown>>((node, part) => node[part] as Record<string, unknown>, kept as unknown as Record<string, unknown>);
    parent[last] = structuredClone(pick(running, key));
  }
  return kept;
}

function pick(config: Config, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}
