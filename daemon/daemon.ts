// The service: configuration → log → model → scheduler → power governor → transports → systemd ready;
// then reload on SIGHUP and a graceful stop on SIGTERM. Wiring only: each part lives in its own file.
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type ConfigSources } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Control } from './control.js';
import { Conversations } from './conversations.js';
import { BitnetModel } from './engine/index.js';
import { PromptCache } from './engine/prompt-cache.js';
import { modelStamp, PromptCacheStore } from './engine/prompt-cache-store.js';
import { loadedAddon } from './engine/native.js';
import { createEngineRunner } from './engine-runner.js';
import { EXIT } from './exit-codes.js';
import { createLogger, reconfigureLogger, type Logger } from './log.js';
import { createPowerManager } from './power/create.js';
import { pullModel } from './pull/download.js';
import type { PowerManager } from './power/power-manager.js';
import type { DaemonState } from './protocol.js';
import { Scheduler } from './scheduler.js';
import { listenFds, notify, startWatchdog } from './systemd.js';
import { MqttTransport } from './transports/mqtt.js';
import { HttpTransport } from './transports/http.js';
import { SocketTransport } from './transports/socket.js';
import { WyomingTransport } from './transports/wyoming.js';
import { DEFAULT_MODEL_NAME, ModelCard, parameterCount, parameterSize } from './ollama/model-card.js';
import { handleInfo } from './wyoming/info.js';
import { ZeroconfAdvert } from './wyoming/zeroconf.js';
import { VERSION } from './version.js';

/** Settings that only a restart applies; SIGHUP says so when they change. */
const RESTART_ONLY = [
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
        'https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf to that path ("bitnetd pull" does), or point model.path ' +
        '(environment BITNETD_MODEL_PATH, flag --model, or /etc/bitnetd/config.json) at the file, or set model.auto_pull',
    );
    return EXIT.NO_INPUT;
  }
  const threadsOf = (c: Config) => c.model.threads || availableParallelism();
  let model: BitnetModel;
  try {
    const t0 = performance.now();
    model = await BitnetModel.load(config.model.path, { threads: threadsOf(config), head: config.model.head });
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
  const runner = createEngineRunner(model, cache, conversations, () => ({ maxTokens: config.generation.max_tokens }), log, energy);
  const scheduler = new Scheduler(runner, { maxJobs: config.queue.max, deadlineMs: config.queue.deadline_ms });
  scheduler.on('change', () => power.setBusy(scheduler.busy));
  const report = (): DaemonState => ({
    version: VERSION,
    model: basename(config.model.path),
    kernel: model.kernel,
    threads: model.threads,
    max_threads: power.maxThreads(),
    busy: scheduler.busy,
    queued: scheduler.queued,
    requests: scheduler.counters.requests,
    rejected: scheduler.counters.rejected,
    tokens: scheduler.counters.tokens,
    tokens_per_s: scheduler.counters.tokensPerS,
    joules_per_token: scheduler.counters.joulesPerToken,
    prompt_cache_tokens: cache.tokens(),
    ...power.report(),
  });
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

  let socket: SocketTransport | undefined;
  let mqtt: MqttTransport | undefined;
  let http: HttpTransport | undefined;
  let wyoming: WyomingTransport | undefined;
  let zeroconf: ZeroconfAdvert | undefined;
  // Whatever is up so far: after a start that fails half-way, and at the end of a stop.
  const closeTransports = async () => {
    socket?.close();
    http?.close();
    wyoming?.close();
    await Promise.all([mqtt?.close(), zeroconf?.stop()]);
  };
  if (config.socket.enabled) {
    const fd = listenFds()[0];
    socket = new SocketTransport(
      { path: config.socket.path, mode: config.socket.mode, group: config.socket.group, maxLineBytes: config.socket.max_line_bytes, ...(fd !== undefined ? { fd } : {}) },
      scheduler,
      control,
      log,
    );
    try {
      await socket.start();
    } catch (err) {
      log.error(`cannot serve the socket: ${(err as Error).message}`);
      return EXIT.CANT_CREATE;
    }
  }
  if (config.mqtt.url) {
    try {
      mqtt = new MqttTransport(config.mqtt, config.node_id, scheduler, control, log);
    } catch (err) {
      await closeTransports();
      if (!(err instanceof ConfigError)) throw err;
      log.error(err.message);
      return EXIT.CONFIG;
    }
  }

  if (config.http.port) {
    const card = new ModelCard(model, config.http.model_name, cache.contextSize);
    // The served model is here (it was loaded, or pulled at start): Ollama's steps, done at once.
    const pull = async (progress: (p: { status: string }) => void) => {
      for (const status of ['pulling manifest', 'verifying sha256 digest', 'writing manifest', 'success']) progress({ status });
    };
    http = new HttpTransport(
      { host: config.http.host, port: config.http.port, token: config.http.token, maxBodyBytes: config.http.max_body_bytes },
      scheduler,
      card,
      cache.contextSize,
      log,
      pull,
    );
    try {
      await http.start();
    } catch (err) {
      await closeTransports();
      log.error(`cannot serve HTTP on ${config.http.host}:${config.http.port}: ${(err as Error).message} (set http.port, or 0 to turn it off)`);
      return EXIT.CANT_CREATE;
    }
  }

  if (config.wyoming.port) {
    const info = handleInfo({
      programName: 'bitnetd',
      modelName: DEFAULT_MODEL_NAME,
      modelDescription: `BitNet b1.58, ${parameterSize(parameterCount(model))} parameters, ternary weights, from ${basename(config.model.path)}`,
      languages: config.wyoming.languages,
    });
    wyoming = new WyomingTransport({ host: config.wyoming.host, port: config.wyoming.port, maxEventBytes: config.wyoming.max_event_bytes }, scheduler, info, log);
    try {
      await wyoming.start();
    } catch (err) {
      await closeTransports();
      log.error(`cannot serve Wyoming on ${config.wyoming.host}:${config.wyoming.port}: ${(err as Error).message} (set wyoming.port, or 0 to turn it off)`);
      return EXIT.CANT_CREATE;
    }
    if (config.wyoming.zeroconf && !isLoopback(config.wyoming.host)) {
      zeroconf = new ZeroconfAdvert(log);
      zeroconf.advertise(config.wyoming.name || `bitnetd-${config.node_id}`, wyoming.port());
    } else if (config.wyoming.zeroconf) {
      log.info('zeroconf: not announcing a service on loopback (set wyoming.host to 0.0.0.0 for Home Assistant on another machine)');
    }
  }

  const statusLine = () => {
    const r = report();
    const watts = r.power_w === null ? '? W' : `${r.power_w} W`;
    const budget = r.budget_watts === null ? '' : ` of ${r.budget_watts}`;
    return (
      `${r.busy ? `busy, ${r.queued} waiting` : 'idle'}; ${r.requests} requests, ${r.tokens_per_s} tok/s, ${r.threads} threads; ` +
      `${watts}${budget} (${r.power_measured ? r.power_source : 'estimated'})`
    );
  };
  let statusTimer: NodeJS.Timeout | undefined;
  const statusSoon = () => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      notify(`STATUS=${statusLine()}`);
    }, 1000);
  };
  scheduler.on('change', statusSoon);
  power.on('change', () => {
    statusSoon();
    mqtt?.stateChanged();
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
    for (const key of RESTART_ONLY) {
      if (JSON.stringify(pick(config, key)) !== JSON.stringify(pick(next, key))) log.warn(`${key} changed: restart bitnetd to apply it`);
    }
    reconfigureLogger(log, next.log.level, next.log.format);
    scheduler.limits = { maxJobs: next.queue.max, deadlineMs: next.queue.deadline_ms };
    conversations.setCapacity(next.generation.conversations);
    power.setMaxThreads(threadsOf(next));
    power.setConfigured({ budgetWatts: next.power.budget_watts, maxTempC: next.power.max_temp_c });
    config = keepRestartOnly(config, next);
    log.info('configuration reloaded', { level: next.log.level, queue_max: next.queue.max, threads: threadsOf(next) });
  };
  process.on('SIGHUP', reload);

  // Signal handlers go in before readiness is announced: a supervisor may stop us the moment it hears it.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        log.warn(`${signal} again: cancelling everything now`);
        scheduler.cancelAll('shutdown');
        return;
      }
      stopping = true;
      notify('STOPPING=1');
      scheduler.close();
      socket?.stopAccepting();
      http?.stopAccepting();
      wyoming?.stopAccepting();
      log.info('stopping', { signal, running: scheduler.busy, waiting: scheduler.queued, grace_ms: config.shutdown.grace_ms });
      const grace = setTimeout(() => {
        log.warn('grace time over: cancelling what is left');
        scheduler.cancelAll('shutdown');
      }, config.shutdown.grace_ms);
      await scheduler.idle();
      clearTimeout(grace);
      clearTimeout(statusTimer);
      power.stop();
      if (store) await savePromptCache(store, cache, log);
      await closeTransports();
      process.off('SIGHUP', reload);
      log.info('stopped');
      resolve(EXIT.OK);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
  notify(`READY=1\nSTATUS=${statusLine()}`);
  log.info('ready', { version: VERSION, node_id: config.node_id, socket: socket?.describe() ?? 'off', mqtt: config.mqtt.url || 'off', http: http?.describe() ?? 'off', wyoming: wyoming?.describe() ?? 'off' });

  return stopped;
}

/** model.auto_pull: downloads the missing model, logging progress and keeping systemd's start timeout
 * ahead of it. A broken download exits 75, which systemd retries; it resumes where it stopped. */
async function autoPull(model: Config['model'], log: Logger): Promise<number> {
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

/** How long saving the prompt cache may hold a stop up (systemd allows 45 s, the grace time takes 10). */
const SAVE_BUDGET_MS = 15_000;

async function loadPromptCache(store: PromptCacheStore, cache: PromptCache, log: Logger): Promise<void> {
  const t0 = performance.now();
  try {
    const loaded = await store.load(cache);
    for (const r of loaded.refused) log.warn(`prompt cache: not reusing ${r.reason}`, { file: r.file });
    if (loaded.loaded) log.info('prompt cache: read back', { prompts: loaded.loaded, tokens: loaded.tokens, ms: Math.round(performance.now() - t0), dir: store.dir });
  } catch (err) {
    log.warn(`prompt cache: cannot read the saved one, starting empty: ${(err as Error).message}`);
  }
}

async function savePromptCache(store: PromptCacheStore, cache: PromptCache, log: Logger): Promise<void> {
  try {
    const r = await store.save(cache, SAVE_BUDGET_MS);
    if (r.saved || r.skipped) log.info('prompt cache: saved', { prompts: r.saved, written: r.written, tokens: r.tokens, ms: r.ms, ...(r.skipped ? { skipped: r.skipped } : {}) });
  } catch (err) {
    log.warn(`prompt cache: cannot save it, the next start evaluates the prompts again: ${(err as Error).message}`);
  }
}

/** The reloaded settings, except those only a restart applies, which keep their running values. */
function keepRestartOnly(running: Config, next: Config): Config {
  return {
    ...next,
    node_id: running.node_id,
    model: { ...next.model, path: running.model.path, head: running.model.head, context: running.model.context },
    mqtt: running.mqtt,
    socket: running.socket,
    http: running.http,
    wyoming: running.wyoming,
    power: { ...next.power, source: running.power.source, model: running.power.model, interval_ms: running.power.interval_ms, state_file: running.power.state_file },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function pick(config: Config, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}
