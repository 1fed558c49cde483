// The prompt cache kept across restarts: at a stop each cached session's keys and values go to a file
// in a directory (most recently used first, within a time budget, so a slow SD card cannot hold the
// stop up), and at the next start they are read back, so Home Assistant's long system prompt is not
// evaluated again after a reboot. A file is written to a temporary name, fsynced and renamed; one whose
// stamp (model file and engine version), shape or checksum does not match is refused and deleted. A
// session unchanged since it was read or written keeps its file (no rewrite: SD cards wear).
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VERSION } from '../version.js';
import type { PromptCache } from './prompt-cache.js';
import type { Session } from './session.js';

const FILE = /^prompt-(\d+)\.kv$/;
const TMP_SUFFIX = '.kv.tmp';

export interface SaveReport {
  /** Sessions on disk now (written or kept). */
  saved: number;
  written: number;
  tokens: number;
  /** Sessions left out when the time budget ran out. */
  skipped: number;
  ms: number;
}

export interface LoadReport {
  loaded: number;
  tokens: number;
  refused: { file: string; reason: string }[];
  /** Half-written files of a save that was killed (a power cut, SIGKILL), removed. */
  leftovers: number;
}

/** What the keys and values were computed with: the model file as it is now, and this engine. */
export function modelStamp(modelPath: string): string {
  const st = statSync(modelPath);
  return `${basename(modelPath)}:${st.size}:${Math.floor(st.mtimeMs)}:bitnetd ${VERSION}`;
}

export class PromptCacheStore {
  /** The file each session was read from or written to, with the tokens it holds. */
  private readonly files = new WeakMap<Session, { name: string; tokens: readonly number[] }>();

  constructor(
    readonly dir: string,
    private readonly stamp: string,
  ) {}

  /** Reads the newest saved sessions (as many as the cache has slots for) into it. */
  async load(cache: PromptCache): Promise<LoadReport> {
    const report: LoadReport = { loaded: 0, tokens: 0, refused: [], leftovers: 0 };
    let all: string[];
    try {
      all = readdirSync(this.dir);
    } catch {
      return report; // nothing saved yet
    }
    for (const name of all.filter((n) => n.endsWith(TMP_SUFFIX))) {
      unlinkQuietly(join(this.dir, name));
      report.leftovers++;
    }
    const names = all.filter((n) => FILE.test(n));
    // Oldest first, so that the newest ends up the most recently used.
    const byAge = names.map((name) => ({ name, mtime: statSync(join(this.dir, name)).mtimeMs })).sort((a, b) => a.mtime - b.mtime);
    const room = byAge.slice(-cache.slotCount);
    for (const { name } of byAge.slice(0, byAge.length - room.length)) unlinkQuietly(join(this.dir, name));
    for (const { name } of room) {
      const session = cache.adopt();
      if (!session) break;
      try {
        await session.restore(join(this.dir, name), this.stamp);
      } catch (err) {
        report.refused.push({ file: name, reason: (err as Error).message });
        unlinkQuietly(join(this.dir, name));
        continue;
      }
      this.files.set(session, { name, tokens: [...session.cachedTokens] });
      report.loaded++;
      report.tokens += session.cachedTokens.length;
    }
    cache.trim();
    return report;
  }

  /** Writes the cached sessions, most recent first, until budgetMs is spent; removes other files. */
  async save(cache: PromptCache, budgetMs: number): Promise<SaveReport> {
    const t0 = performance.now();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const sessions = cache.recent();
    const keep = new Set<string>();
    const report: SaveReport = { saved: 0, written: 0, tokens: 0, skipped: 0, ms: 0 };
    const now = Date.now() / 1000;
    for (const [i, session] of sessions.entries()) {
      if (performance.now() - t0 > budgetMs) {
        report.skipped = sessions.length - i;
        // What they had when last saved is still a valid cache of those tokens: keep it.
        for (const rest of sessions.slice(i)) {
          const name = this.files.get(rest)?.name;
          if (name) keep.add(name);
        }
        break;
      }
      const known = this.files.get(session);
      const name = known?.name ?? this.freeName(keep);
      const path = join(this.dir, name);
      if (known && sameTokens(known.tokens, session.cachedTokens) && exists(path)) {
        utimesSync(path, now - i, now - i); // its place in the recency order
      } else {
        try {
          await session.save(`${path}.tmp`, this.stamp);
          renameSync(`${path}.tmp`, path);
        } catch (err) {
          unlinkQuietly(`${path}.tmp`); // a full disk must not stay full of a half-written file
          throw err;
        }
        utimesSync(path, now - i, now - i);
        this.files.set(session, { name, tokens: [...session.cachedTokens] });
        report.written++;
      }
      keep.add(name);
      report.saved++;
      report.tokens += session.cachedTokens.length;
    }
    for (const name of readdirSync(this.dir)) if (!keep.has(name) && (FILE.test(name) || name.endsWith(TMP_SUFFIX))) unlinkQuietly(join(this.dir, name));
    report.ms = Math.round(performance.now() - t0);
    return report;
  }

  /** A file name no session of this run uses. */
  private freeName(taken: Set<string>): string {
    const used = new Set([...taken, ...readdirSync(this.dir)]);
    for (let n = 0; ; n++) if (!used.has(`prompt-${n}.kv`)) return `prompt-${n}.kv`;
  }
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
