// bitnetd pull [URL]: downloads the model to model.path (default: Microsoft's official file from
// Hugging Face), with a progress bar, resuming an interrupted download, checking its sha256.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../config/load.js';
import { EXIT } from '../exit-codes.js';
import { OFFICIAL_MODEL_URL, pullModel } from '../pull/download.js';
import { addConfigFlags, configSources } from './config-flags.js';

interface Flags {
  sha256?: string;
}

export function pullCommand(): Command {
  return addConfigFlags(new Command('pull'))
    .description(`download the model to model.path (default URL: ${OFFICIAL_MODEL_URL})`)
    .argument('[url]', 'where to download it from (default: model.url)')
    .option('--sha256 <hex>', 'the expected sha256 (default: model.sha256, else the digest Hugging Face names)')
    .action(async (url: string | undefined, flags: Flags & Parameters<typeof configSources>[0]) => {
      let dest: string, from: string, sha256: string | undefined;
      try {
        const config = loadConfig(configSources(flags)).config;
        dest = config.model.path;
        from = url ?? config.model.url;
        sha256 = flags.sha256 ?? (config.model.sha256 || undefined);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`bitnetd: ${err.message}\n`);
        process.exitCode = EXIT.CONFIG;
        return;
      }
      process.stderr.write(`pulling ${from}\n  into ${dest}\n`);
      const bar = new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {done} of {size} MB | {speed} MB/s | {eta_formatted}', hideCursor: true, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 10_000 },
        cliProgress.Presets.shades_classic,
      );
      const started = performance.now();
      let barStarted = false;
      const result = await pullModel({
        url: from,
        dest,
        ...(sha256 ? { sha256 } : {}),
        onProgress: (p) => {
          const mb = (n: number) => (n / 1e6).toFixed(0);
          const payload = { done: mb(p.completed), size: p.total ? mb(p.total) : '?', speed: (p.completed / 1e6 / ((performance.now() - started) / 1000)).toFixed(1) };
          if (!barStarted && p.total) {
            bar.start(p.total, p.completed, payload);
            barStarted = true;
          } else if (barStarted) bar.update(p.completed, payload);
        },
      }).finally(() => barStarted && bar.stop());
      process.stderr.write(
        `${result.resumed ? 'resumed and ' : ''}downloaded ${(result.bytes / 1e6).toFixed(0)} MB, sha256 ${result.sha256}` +
          `${result.verified ? ' (checked)' : ' (no expected digest to check it against: pass --sha256)'}\n`,
      );
    });
}
