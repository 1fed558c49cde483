// The daemon's state as transports and systemd report it: the status event, the MQTT state topic,
// `bitnetd status`, and the one-line STATUS= systemctl shows.
import { basename } from 'node:path';
import type { BitnetModel, PromptCache } from './engine/index.js';
import type { PowerManager } from './power/power-manager.js';
import type { DaemonState } from './protocol.js';
import type { Scheduler } from './scheduler.js';
import { VERSION } from './version.js';

export interface ReportedParts {
  modelPath: string;
  model: BitnetModel;
  power: PowerManager;
  scheduler: Scheduler;
  cache: PromptCache;
  /** The transports serving: name → describe(). */
  serving: Record<string, string>;
}

export function statusReport({ modelPath, model, power, scheduler, cache, serving }: ReportedParts): DaemonState {
  return {
    version: VERSION,
    model: basename(modelPath),
    kernel: model.kernel,
    threads: model.threads,
    max_threads: power.maxThreads(),
    thread_limit: power.threadLimit(),
    busy: scheduler.busy,
    queued: scheduler.queued,
    requests: scheduler.counters.requests,
    rejected: scheduler.counters.rejected,
    tokens: scheduler.counters.tokens,
    tokens_per_s: scheduler.counters.tokensPerS,
    joules_per_token: scheduler.counters.joulesPerToken,
    prompt_cache_tokens: cache.tokens(),
    ...power.report(),
    serving,
  };
}

/** "idle; 12 requests, 31.5 tok/s, 2 threads; 4.2 W of 5 (rapl)". */
export function statusLine(r: DaemonState): string {
  const watts = r.power_w === null ? '? W' : `${r.power_w} W`;
  const budget = r.budget_watts === null ? '' : ` of ${r.budget_watts}`;
  return (
    `${r.busy ? `busy, ${r.queued} waiting` : 'idle'}; ${r.requests} requests, ${r.tokens_per_s} tok/s, ${r.threads} threads; ` +
    `${watts}${budget} (${r.power_measured ? r.power_source : 'estimated'})`
  );
}
