// The prompt cache kept across restarts (cache.persist): read back at the start, saved once the daemon
// has been idle a while (cache.save_idle_s: a power cut loses at most that much) and at a stop.
// Neither may fail the daemon: a cache that cannot be read or written only costs prompt evaluation.
import type { PromptCache, PromptCacheStore } from './engine/index.js';
import type { Logger } from './log.js';

/** How long saving the prompt cache may hold a stop up (systemd allows 45 s, the grace time takes 10). */
const SAVE_BUDGET_MS = 15_000;

export async function loadPromptCache(store: PromptCacheStore, cache: PromptCache, log: Logger): Promise<void> {
  const t0 = performance.now();
  try {
    const loaded = await store.load(cache);
    for (const r of loaded.refused) log.warn(`prompt cache: not reusing ${r.reason}`, { file: r.file });
    if (loaded.leftovers) log.info('prompt cache: removed what an interrupted save left', { files: loaded.leftovers, dir: store.dir });
    if (loaded.loaded) log.info('prompt cache: read back', { prompts: loaded.loaded, tokens: loaded.tokens, ms: Math.round(performance.now() - t0), dir: store.dir });
  } catch (err) {
    log.warn(`prompt cache: cannot read the saved one, starting empty: ${(err as Error).message}`);
  }
}

export async function savePromptCache(store: PromptCacheStore, cache: PromptCache, log: Logger, when: 'stop' | 'idle' = 'stop'): Promise<void> {
  try {
    const r = await store.save(cache, SAVE_BUDGET_MS);
    if (r.written || (when === 'stop' && (r.saved || r.skipped))) {
      log.info('prompt cache: saved', { when, prompts: r.saved, written: r.written, tokens: r.tokens, ms: r.ms, ...(r.skipped ? { skipped: r.skipped } : {}) });
    }
  } catch (err) {
    log.warn(`prompt cache: cannot save it, the next start evaluates the prompts again: ${(err as Error).message}`);
  }
}

/** Saves the prompt cache once nothing has run for a while. A request waits for a save being written
 * (settled) before it takes a session, which the save holds. */
export class IdleSaver {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: PromptCacheStore,
    private readonly cache: PromptCache,
    private readonly log: Logger,
    private readonly delayMs: number,
    private readonly idle: () => boolean,
  ) {}

  /** Something ran or was queued: save when it has all been idle for the delay. */
  activity(): void {
    if (this.delayMs <= 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.idle()) this.saving = savePromptCache(this.store, this.cache, this.log, 'idle');
    }, this.delayMs);
    this.timer.unref();
  }

  settled(): Promise<void> {
    return this.saving;
  }

  stop(): Promise<void> {
    clearTimeout(this.timer);
    return this.saving;
  }
}
