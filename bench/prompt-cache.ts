// Time to first token with and without a prompt-cache hit, as Home Assistant's Ollama integration
// causes it: one long system prompt (its exposed entities, here ~1,500 tokens) resent with every turn,
// while another client asks in between. Used by run.ts and runnable alone:
//   node dist/bench/prompt-cache.js MODEL [threads]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitnetModel, modelStamp, PromptCache, PromptCacheStore } from '../daemon/engine/index.js';

export interface PromptCacheTiming {
  system_tokens: number;
  /** TTFT of the first turn (nothing cached), of the next turn (a hit), and of a turn after another client. */
  miss_ms: number;
  hit_ms: number;
  hit_after_other_ms: number;
  cached_tokens: number;
  /** Persistence (cache.persist): the saved files, writing and fsyncing them, reading them back (from the page cache), and TTFT then. */
  saved_mb: number;
  save_ms: number;
  load_ms: number;
  hit_after_restart_ms: number;
}

/** A system prompt like HA's: the assistant's instructions, then one line per exposed entity. */
function homeSystemPrompt(entities: number): string {
  const rooms = ['kitchen', 'living room', 'bedroom', 'hall', 'office', 'bathroom', 'garage', 'garden'];
  const kinds = ['light', 'switch', 'sensor', 'climate', 'cover', 'fan', 'media_player', 'lock'];
  const lines = ['You are a voice assistant for Home Assistant. Answer in plain sentences, briefly.', 'An overview of the areas and the devices in this smart home:'];
  for (let i = 0; i < entities; i++) {
    const room = rooms[i % rooms.length]!;
    const kind = kinds[(i * 3) % kinds.length]!;
    lines.push(`- names: ${room} ${kind} ${i}\n  domain: ${kind}\n  state: '${i % 2 ? 'on' : 'off'}'\n  areas: ${room}`);
  }
  return lines.join('\n');
}

async function timeToFirstToken(model: BitnetModel, cache: PromptCache, system: string, question: string) {
  const prompt = model.promptTokens({ messages: [{ role: 'user', content: question }], system });
  const session = cache.take(prompt);
  const t0 = performance.now();
  const it = session.stream({ tokens: prompt }, { maxTokens: 4, temperature: 0 });
  await it.next();
  const ms = performance.now() - t0;
  let step = await it.next();
  while (!step.done) step = await it.next();
  cache.trim();
  return { ms, cached: step.value.stats.cachedTokens, promptTokens: prompt.length };
}

export async function promptCacheTiming(path: string, threads = 2): Promise<PromptCacheTiming> {
  const model = await BitnetModel.load(path, { threads, head: 'q8' });
  const cache = new PromptCache(model, { slots: 4, contextSize: 2048, maxBytes: 384 << 20 });
  const system = homeSystemPrompt(62);
  const miss = await timeToFirstToken(model, cache, system, 'Turn on the kitchen light.');
  const hit = await timeToFirstToken(model, cache, system, 'Is the garage door locked?');
  await timeToFirstToken(model, cache, 'You are a helpful assistant.', 'Write a haiku about autumn.'); // another client
  const after = await timeToFirstToken(model, cache, system, 'How warm is the bedroom?');

  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-bench-pc-'));
  const stamp = modelStamp(path);
  const savedMb = cache.bytes() / 1e6;
  const saved = await new PromptCacheStore(dir, stamp).save(cache, 60_000);
  const restarted = new PromptCache(model, { slots: 4, contextSize: 2048, maxBytes: 384 << 20 });
  const t0 = performance.now();
  await new PromptCacheStore(dir, stamp).load(restarted);
  const loadMs = performance.now() - t0;
  const afterRestart = await timeToFirstToken(model, restarted, system, 'Is the front door locked?');
  rmSync(dir, { recursive: true, force: true });
  return {
    system_tokens: model.promptTokens({ messages: [], system }).length,
    miss_ms: Math.round(miss.ms),
    hit_ms: Math.round(hit.ms),
    hit_after_other_ms: Math.round(after.ms),
    cached_tokens: hit.cached,
    saved_mb: Math.round(savedMb),
    save_ms: saved.ms,
    load_ms: Math.round(loadMs),
    hit_after_restart_ms: Math.round(afterRestart.ms),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, threads] = process.argv.slice(2);
  if (!path) throw new Error('usage: prompt-cache MODEL [threads]');
  console.log(JSON.stringify(await promptCacheTiming(path, threads ? Number(threads) : 2)));
}
