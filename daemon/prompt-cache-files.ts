// The prompt cache kept across restarts (cache.persist): read back at the start, saved at a stop.
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
    if (loaded.loaded) log.info('prompt cache: read back', { prompts: loaded.loaded, tokens: loaded.tokens, ms: Math.round(performance.now() - t0), dir: store.dir });
  } catch (err) {
    log.warn(`prompt cache: cannot read the saved one, starting empty: ${(err as Error).message}`);
  }
}

export async function savePromptCache(store: PromptCacheStore, cache: PromptCache, log: Logger): Promise<void> {
  try {
    const r = await store.save(cache, SAVE_BUDGET_MS);
    if (r.saved || r.skipped) log.info('prompt cache: saved', { prompts: r.saved, written: r.written, tokens: r.tokens, ms: r.ms, ...(r.skipped ? { skipped: r.skipped } : {}) });
  } catch (err) {
    log.warn(`prompt cache: cannot save it, the next start evaluates the prompts again: ${(err as Error).message}`);
  }
}
