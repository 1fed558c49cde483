// The service: configuration → log → model → scheduler → power governor → transports → systemd ready;
// then reload on SIGHUP and a graceful stop on SIGTERM. Wiring only: each part lives in its own file,
// and the transports are started and stopped alike, through their contract (transports/transport.ts).
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { autoPull } from './auto-pull.js';
import { ConfigError, loadConfig, type ConfigSources } from './config/load.js';
import { applyReload, restartOnlyChanges } from './config/reload.js';
import type { Config } from './config/schema.js';
import type { Control } from './control.js';
import { Conversations } from './conversations.js';
import { BitnetModel, loadedAddon, modelStamp, PromptCache, PromptCacheStore, vocabIndex } from './engine/index.js';
import { createEngineRunner } from './engine-runner.js';
import { EXIT } from './exit-codes.js';
import { createLogger, reconfigureLogger } from './log.js';
import { createPowerManager } from './power/create.js';
import type { PowerManager } from './power/power-manager.js';
import { IdleSaver, loadPromptCache, savePromptCache } from './prompt-cache-files.js';
import { Scheduler } from './scheduler.js';
import { selfCommand } from './self-command.js';
import { statusLine, statusReport } from './status-report.js';
import { notify, startWatchdog } from './systemd.js';
import { createTransports, type Transport, type TransportContext } from './transports/create.js';
import { VERSION } from './version.js';

export async function runDaemon(sources: ConfigSources): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(sources).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bitnetd: ${err.message}\n`);
    return EXIT.CONFIG;
  }
  const log = createLogger(config.log.level, config.log.format);
  process.on('uncaughtException', (err) => {
    log.error('bug: uncaught exception', { error: err.stack ?? String(err) });
    process.exit(EXIT.SOFTWARE);
  });
  try {
    const engine = loadedAddon();
    log.info('engine addon', { source: engine.source, path: engine.path });
  } catch (err) {
    log.error((err as Error).message);
    return EXIT.UNAVAILABLE;
  }
  startWatchdog();
  notify(`STATUS=loading ${config.model.path}`);

  if (!existsSync(config.model.path) && config.model.auto_pull) {
    const pulled = await autoPull(config.model, log);
    if (pulled !== EXIT.OK) return pulled;
  }
  if (!existsSync(config.model.path)) {
    log.error(
      `model file ${config.model.path} not found. Download ggml-model-i2_s.gguf from ` +
        `https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf to that path ("${selfCommand(`pull -m ${config.model.path}`)}" does), or point model.path ` +
        '(environment BITNETD_MODEL_PATH, flag --model, or /etc/bitnetd/config.json) at the file, or set model.auto_pull',
    );
    return EXIT.NO_INPUT;
  }
  const threadsOf = (c: Config) => c.model.threads || availableParallelism();
  let model: BitnetModel;
  try {
    const t0 = performance.now();
    model = await BitnetModel.load(config.model.path, { threads: threadsOf(config), head: config.model.head });
    // Constrained decoding's index of the vocabulary (half a second for Llama 3), built now: inside the
    // first request with a schema or tools it would hold up every other client's answers that long.
    vocabIndex(model.tokenizer);
    log.info('model loaded', {
      path: config.model.path,
      kernel: model.kernel,
      head: model.info.head,
      threads: model.threads,
      weights_mb: Math.round(model.info.weightBytes / 1048576),
      ms: Math.round(performance.now() - t0),
    });
  } catch (err) {
    log.error(`cannot load the model: ${(err as Error).message}`);
    return EXIT.DATA_ERROR;
  }

  const cache = new PromptCache(model, {
    slots: config.cache.slots,
    contextSize: config.model.context || model.contextLength,
    maxBytes: config.cache.max_mb * 1048576,
  });
  log.info('context ready', { tokens: cache.contextSize, prompt_cache_slots: config.cache.slots, prompt_cache_max_mb: config.cache.max_mb });
  const store = config.cache.persist ? new PromptCacheStore(config.cache.dir, modelStamp(config.model.path)) : undefined;
  if (store) await loadPromptCache(store, cache, log);
  let power: PowerManager;
  try {
    power = await createPowerManager(config.power, threadsOf(config), (s) => (model.setThreads(s.threads), model.setDutyCycle(s.duty)), log);
  } catch (err) {
    log.error(`power: ${(err as Error).message}`);
    return EXIT.CONFIG;
  }
  const conversations = new Conversations(config.generation.conversations);
  const energy = () => ({ joules: power.energy.total(), measured: power.source.measured });
  let saver: IdleSaver | undefined;
  let stopWith: (reason: string, code: number) => void = () => {};
  const runner = createEngineRunner(model, cache, conversations, () => ({ maxTokens: config.generation.max_tokens }), log, {
    energy,
    beforeRun: () => saver?.settled(),
    onModelLost: (err) => {
      log.error(`the model file ${config.model.path} changed under the running daemon (${err.message}); stopping so that a restart loads it again`);
      stopWith('model file lost', EXIT.DATA_ERROR);
    },
  });
  const scheduler = new Scheduler(runner, { maxJobs: config.queue.max, deadlineMs: config.queue.deadline_ms });
  if (store) saver = new IdleSaver(store, cache, log, config.cache.save_idle_s * 1000, () => !scheduler.busy && scheduler.queued === 0);
  scheduler.on('change', () => {
    power.setBusy(scheduler.busy);
    saver?.activity();
  });
  const transports: Transport[] = [];
  const serving = () => Object.fromEntries(transports.map((t) => [t.name, t.describe()]));
  const report = () => statusReport({ modelPath: config.model.path, model, power, scheduler, cache, serving: serving() });
  const control: Control = {
    status: report,
    setPower: (limits) => {
      const set = power.setLimits(limits);
      return { budget_watts: set.budgetWatts, max_temp_c: set.maxTempC };
    },
    setThreadCap: (n) => {
      power.setLimits({ max_threads: n });
      return power.maxThreads();
    },
    cancelRunning: () => scheduler.cancelRunning(),
  };
  const context: TransportContext = {
    submit: (request, sink, options) => scheduler.submit(request, sink, options),
    control,
    log,
    onStateChange: (listener) => {
      scheduler.on('change', listener);
      power.on('change', listener);
    },
  };

  // Started in order; after a start that fails half-way, and at the end of a stop, those up are closed.
  const closeTransports = () => Promise.all(transports.map((t) => t.close()));
  try {
    for (const transport of createTransports(config, context, { model, contextSize: cache.contextSize })) {
      transports.push(transport);
      await transport.start();
    }
  } catch (err) {
    await closeTransports();
    log.error((err as Error).message);
    return err instanceof ConfigError ? EXIT.CONFIG : EXIT.CANT_CREATE;
  }

  let statusTimer: NodeJS.Timeout | undefined;
  context.onStateChange(() => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      notify(`STATUS=${statusLine(report())}`);
    }, 1000);
  });
  power.start();
  const reload = () => {
    let next: Config;
    try {
      next = loadConfig(sources).config;
    } catch (err) {
      log.error(`reload failed, keeping the running configuration: ${(err as Error).message}`);
      return;
    }
    for (const key of restartOnlyChanges(config, next)) log.warn(`${key} changed: restart bitnetd to apply it`);
    reconfigureLogger(log, next.log.level, next.log.format);
    scheduler.limits = { maxJobs: next.queue.max, deadlineMs: next.queue.deadline_ms };
    conversations.setCapacity(next.generation.conversations);
    power.setMaxThreads(threadsOf(next));
    power.setConfigured({ budgetWatts: next.power.budget_watts, maxTempC: next.power.max_temp_c });
    config = applyReload(config, next);
    log.info('configuration reloaded', { level: next.log.level, queue_max: next.queue.max, threads: threadsOf(next) });
  };
  process.on('SIGHUP', reload);

  // Signal handlers go in before readiness is announced: a supervisor may stop us the moment it hears it.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string, code: number = EXIT.OK) => {
      if (stopping) {
        log.warn(`${signal} again: cancelling everything now`);
        scheduler.cancelAll('shutdown');
        return;
      }
      stopping = true;
      notify('STOPPING=1');
      scheduler.close();
      for (const t of transports) t.stopAccepting();
      log.info('stopping', { signal, running: scheduler.busy, waiting: scheduler.queued, grace_ms: config.shutdown.grace_ms });
      const grace = setTimeout(() => {
        log.warn('grace time over: cancelling what is left');
        scheduler.cancelAll('shutdown');
      }, config.shutdown.grace_ms);
      await scheduler.idle();
      clearTimeout(grace);
      clearTimeout(statusTimer);
      power.stop();
      await saver?.stop();
      if (store) await savePromptCache(store, cache, log);
      await closeTransports();
      process.off('SIGHUP', reload);
      log.info('stopped');
      resolve(code);
    };
    stopWith = (reason, code) => void stop(reason, code);
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
  notify(`READY=1\nSTATUS=${statusLine(report())}`);
  log.info('ready', { version: VERSION, node_id: config.node_id, ...serving() });

  return stopped;
}
