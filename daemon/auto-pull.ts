// model.auto_pull: downloads the missing model at the start, logging progress and keeping systemd's
// start timeout ahead of it. A broken download exits 75, which systemd retries; it resumes where it stopped.
import type { Config } from './config/schema.js';
import { EXIT } from './exit-codes.js';
import type { Logger } from './log.js';
import { pullModel } from './pull/download.js';
import { notify } from './systemd.js';

export async function autoPull(model: Config['model'], log: Logger): Promise<number> {
  log.info('model missing: downloading it (model.auto_pull)', { url: model.url, path: model.path });
  let lastLog = 0;
  try {
    const r = await pullModel({
      url: model.url,
      dest: model.path,
      ...(model.sha256 ? { sha256: model.sha256 } : {}),
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastLog < 10_000 && p.phase === 'downloading') return;
        lastLog = now;
        const pct = p.total ? Math.floor((100 * p.completed) / p.total) : undefined;
        log.info(`model download: ${p.phase}`, { mb: Math.round(p.completed / 1e6), ...(pct !== undefined ? { percent: pct } : {}) });
        notify(`EXTEND_TIMEOUT_USEC=60000000\nSTATUS=downloading the model${pct !== undefined ? `: ${pct} %` : ''}`);
      },
    });
    log.info('model downloaded', { path: r.path, mb: Math.round(r.bytes / 1e6), sha256: r.sha256, checked: r.verified, resumed: r.resumed });
    return EXIT.OK;
  } catch (err) {
    log.error(`cannot download the model: ${(err as Error).message}`);
    return EXIT.TEMP_FAIL;
  }
}
