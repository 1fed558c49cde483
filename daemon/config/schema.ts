// The configuration schema: every setting, its default, its format and its environment variable.
// Sources, lowest first: defaults < config file < BITNETD_* environment < command-line flags.
import convict from 'convict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { POWER_SOURCE_KINDS, type PowerSourceKind } from '../power/power-source.js';

/** A node id is part of MQTT topics and Home Assistant ids: letters, digits, _ and -. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The short host name, made into a valid node id (so two boards differ by default). */
export function defaultNodeId(): string {
  const short = hostname().split('.')[0] ?? '';
  const id = short.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return id || 'bitnetd';
}

/** systemd passes the service's directories in the environment; without it, the FHS places. */
export function defaultPaths(env: NodeJS.ProcessEnv = process.env) {
  const first = (v: string | undefined) => v?.split(':')[0] || undefined;
  return {
    config: join(first(env['CONFIGURATION_DIRECTORY']) ?? '/etc/bitnetd', 'config.json'),
    model: join(first(env['STATE_DIRECTORY']) ?? '/var/lib/bitnetd', 'models', 'ggml-model-i2_s.gguf'),
    socket: join(first(env['RUNTIME_DIRECTORY']) ?? '/run/bitnetd', 'bitnetd.sock'),
    powerState: join(first(env['STATE_DIRECTORY']) ?? '/var/lib/bitnetd', 'power.json'),
    promptCache: join(first(env['STATE_DIRECTORY']) ?? '/var/lib/bitnetd', 'prompt-cache'),
  };
}

convict.addFormats({
  'node-id': {
    validate(v: unknown) {
      if (typeof v !== 'string' || !NODE_ID_PATTERN.test(v)) throw new Error('must be 1-64 letters, digits, _ or -');
    },
  },
  'mqtt-url': {
    validate(v: unknown) {
      if (typeof v !== 'string') throw new Error('must be a string');
      if (v === '') return; // MQTT off
      if (!/^(mqtts?|wss?|tcp|ssl|mqtt\+unix):\/\/./.test(v)) {
        throw new Error('must be empty (MQTT off) or a URL like mqtt://host:1883, mqtts://host:8883 or ws://host/mqtt');
      }
    },
  },
  'file-mode': {
    validate(v: unknown) {
      if (typeof v !== 'string' || !/^0?[0-7]{3}$/.test(v)) throw new Error('must be an octal mode like "0660"');
    },
  },
  'non-negative': {
    validate(v: unknown) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error('must be a number >= 0');
    },
    coerce: (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  },
  'positive-int': {
    validate(v: unknown) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error('must be an integer >= 1');
    },
    coerce: (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  },
  'language-list': {
    validate(v: unknown) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(x))) {
        throw new Error('must be a list of language codes like ["en", "de"] (in the environment: en,de)');
      }
    },
    coerce: (v: unknown) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
  },
  'origin-list': {
    validate(v: unknown) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && (x === '*' || /^https?:\/\/[^/\s]+$/.test(x)))) {
        throw new Error('must be a list of web origins like ["https://ha.example.org:8123"] or ["*"] (in the environment: comma-separated)');
      }
    },
    coerce: (v: unknown) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
  },
  'interface-list': {
    validate(v: unknown) {
      // Linux interface names: at most 15 characters, no slash or white space.
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^[^\s/]{1,15}$/.test(x))) {
        throw new Error('must be a list of network interface names like ["eth0", "wlan0"] (in the environment: eth0,wlan0)');
      }
    },
    coerce: (v: unknown) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
  },
  'mqtt-topic-prefix': {
    validate(v: unknown) {
      if (typeof v !== 'string' || !/^[^#+$/][^#+]*$/.test(v) || v.endsWith('/')) {
        throw new Error('must be a topic without wildcards, not starting with $ or / nor ending with /');
      }
    },
  },
});

export function configSchema(env: NodeJS.ProcessEnv = process.env) {
  const paths = defaultPaths(env);
  return {
    node_id: {
      doc: 'This board\'s name in MQTT topics (bitnetd/<node_id>/...). Must differ between boards.',
      format: 'node-id',
      default: defaultNodeId(),
      env: 'BITNETD_NODE_ID',
    },
    model: {
      path: {
        doc: 'The model file: ggml-model-i2_s.gguf from Hugging Face, microsoft/bitnet-b1.58-2B-4T-gguf.',
        format: String,
        default: paths.model,
        env: 'BITNETD_MODEL_PATH',
      },
      url: {
        doc: 'Where "bitnetd pull" and model.auto_pull download the model from.',
        format: String,
        default: 'https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf/resolve/main/ggml-model-i2_s.gguf',
        env: 'BITNETD_MODEL_URL',
      },
      sha256: {
        doc: 'The model file\'s expected sha256 when downloading it (empty: the digest Hugging Face names for it).',
        format: String,
        default: '',
        env: 'BITNETD_MODEL_SHA256',
      },
      auto_pull: {
        doc: 'Download the model at start when model.path does not exist (as "bitnetd pull" does).',
        format: Boolean,
        default: false,
        env: 'BITNETD_MODEL_AUTO_PULL',
      },
      threads: {
        doc: 'Compute threads; 0 means one per CPU core.',
        format: 'nat',
        default: 0,
        env: 'BITNETD_THREADS',
      },
      head: {
        doc: 'Output head: q8 (int8 built at load: about half the bytes per token, logits within 0.02 of f16) or f16 (exact, as in the file).',
        format: ['q8', 'f16'],
        default: 'q8',
        env: 'BITNETD_MODEL_HEAD',
      },
      context: {
        doc: 'Context size in tokens (prompt + answer); capped at the model\'s own. The KV cache grows with it.',
        format: 'nat',
        default: 4096,
        env: 'BITNETD_CONTEXT',
      },
    },
    cache: {
      slots: {
        doc: 'Prompts whose KV cache is kept: a prompt that starts like one of them evaluates only the rest (Home Assistant resends one long system prompt every turn).',
        format: 'positive-int',
        default: 4,
        env: 'BITNETD_CACHE_SLOTS',
      },
      max_mb: {
        doc: 'Memory the kept prompts may take in all; the least recently used are dropped beyond it (the 2B4T model takes 75 KB per token).',
        format: 'nat',
        default: 384,
        env: 'BITNETD_CACHE_MAX_MB',
      },
      persist: {
        doc: 'Save the kept prompts at a stop and read them back at the start, so a restart does not evaluate them again (files of up to cache.max_mb in all, holding the prompts\' tokens).',
        format: Boolean,
        default: true,
        env: 'BITNETD_CACHE_PERSIST',
      },
      save_idle_s: {
        doc: 'With cache.persist, also save the kept prompts once the daemon has been idle this long after answering, so a power cut loses at most that much; 0 saves only at a stop.',
        format: 'nat',
        default: 60,
        env: 'BITNETD_CACHE_SAVE_IDLE_S',
      },
      dir: {
        doc: 'Where the kept prompts are saved (under systemd: $STATE_DIRECTORY/prompt-cache).',
        format: String,
        default: paths.promptCache,
        env: 'BITNETD_CACHE_DIR',
      },
    },
    generation: {
      max_tokens: {
        doc: 'Answer length when a request does not say (max_tokens).',
        format: 'nat',
        default: 512,
        env: 'BITNETD_MAX_TOKENS',
      },
      conversations: {
        doc: 'How many named conversations are remembered (least recently used are forgotten).',
        format: 'nat',
        default: 32,
      },
    },
    queue: {
      max: {
        doc: 'Requests accepted at once (running + waiting); beyond it a request gets an immediate "busy" error.',
        format: 'nat',
        default: 16,
        env: 'BITNETD_QUEUE_MAX',
      },
      deadline_ms: {
        doc: 'A request not finished this long after it was accepted is stopped (per request: deadline_ms).',
        format: 'nat',
        default: 300_000,
        env: 'BITNETD_DEADLINE_MS',
      },
    },
    mqtt: {
      url: {
        doc: 'Broker URL (mqtt://, mqtts://, ws://, wss://); empty turns MQTT off.',
        format: 'mqtt-url',
        default: 'mqtt://localhost:1883',
        env: 'BITNETD_MQTT_URL',
      },
      protocol_version: {
        doc: 'MQTT protocol: 5, or 4 for brokers that only speak 3.1.1.',
        format: [5, 4],
        default: 5,
        env: 'BITNETD_MQTT_PROTOCOL_VERSION',
      },
      base_topic: {
        doc: 'First level of every topic.',
        format: 'mqtt-topic-prefix',
        default: 'bitnetd',
        env: 'BITNETD_MQTT_BASE_TOPIC',
      },
      shared: {
        doc: 'Also take requests from the shared subscription $share/<base>/<base>/request, so several boards serve one topic.',
        format: Boolean,
        default: false,
        env: 'BITNETD_MQTT_SHARED',
      },
      qos: {
        doc: 'QoS of answers (stream chunks and the final message use the same one, so they arrive in order).',
        format: [0, 1, 2],
        default: 1,
        env: 'BITNETD_MQTT_QOS',
      },
      client_id: {
        doc: 'MQTT client id; empty means bitnetd_<node_id>_<a random id of this process> (boards left on one node_id do not take over each other\'s connection).',
        format: String,
        default: '',
        env: 'BITNETD_MQTT_CLIENT_ID',
      },
      username: { doc: 'Broker user name.', format: String, default: '', env: 'BITNETD_MQTT_USERNAME' },
      password: { doc: 'Broker password.', format: String, default: '', sensitive: true, env: 'BITNETD_MQTT_PASSWORD' },
      ca: { doc: 'TLS: CA certificate file (PEM) to trust for the broker.', format: String, default: '', env: 'BITNETD_MQTT_CA' },
      cert: { doc: 'TLS: client certificate file (PEM).', format: String, default: '', env: 'BITNETD_MQTT_CERT' },
      key: { doc: 'TLS: client private key file (PEM).', format: String, default: '', env: 'BITNETD_MQTT_KEY' },
      reject_unauthorized: {
        doc: 'TLS: refuse a broker whose certificate does not verify.',
        format: Boolean,
        default: true,
        env: 'BITNETD_MQTT_REJECT_UNAUTHORIZED',
      },
      discovery: {
        doc: 'Publish Home Assistant MQTT discovery, so this board appears as a device with its sensors and controls.',
        format: Boolean,
        default: true,
        env: 'BITNETD_MQTT_DISCOVERY',
      },
      discovery_prefix: {
        doc: 'Home Assistant\'s discovery prefix.',
        format: 'mqtt-topic-prefix',
        default: 'homeassistant',
        env: 'BITNETD_MQTT_DISCOVERY_PREFIX',
      },
      max_payload_bytes: { doc: 'Largest request payload accepted.', format: 'nat', default: 1 << 20 },
      keepalive_s: { doc: 'Keep-alive interval in seconds.', format: 'nat', default: 30 },
      reconnect_min_ms: { doc: 'First reconnect delay; it doubles on each failure.', format: 'nat', default: 1000 },
      reconnect_max_ms: { doc: 'Longest reconnect delay.', format: 'nat', default: 60_000 },
    },
    socket: {
      enabled: { doc: 'Serve the Unix socket.', format: Boolean, default: true, env: 'BITNETD_SOCKET_ENABLED' },
      path: {
        doc: 'Unix socket path (under systemd: $RUNTIME_DIRECTORY/bitnetd.sock).',
        format: String,
        default: paths.socket,
        env: 'BITNETD_SOCKET_PATH',
      },
      mode: { doc: 'Permissions of the socket file.', format: 'file-mode', default: '0660', env: 'BITNETD_SOCKET_MODE' },
      group: { doc: 'Group given the socket file (empty: unchanged).', format: String, default: '', env: 'BITNETD_SOCKET_GROUP' },
      max_line_bytes: { doc: 'Longest request line accepted.', format: 'nat', default: 1 << 20 },
      max_connections: { doc: 'Clients connected at once; more are turned away.', format: 'positive-int', default: 64 },
    },
    http: {
      port: {
        doc: 'Port of the Ollama-compatible HTTP API (11434, as Ollama); 0 turns it off.',
        format: 'port',
        default: 11434,
        env: 'BITNETD_HTTP_PORT',
      },
      host: {
        doc: 'Address the HTTP API listens on: loopback by default; 0.0.0.0 (with http.token) for Home Assistant on another machine.',
        format: String,
        default: '127.0.0.1',
        env: 'BITNETD_HTTP_HOST',
      },
      token: {
        doc: 'If set, HTTP clients must send "Authorization: Bearer <token>" (Home Assistant\'s Ollama integration has an API key field).',
        format: String,
        default: '',
        sensitive: true,
        env: 'BITNETD_HTTP_TOKEN',
      },
      model_name: {
        doc: 'The name Ollama clients see the model under (listed as <name>:latest).',
        format: String,
        default: 'bitnet-b1.58-2b-4t',
        env: 'BITNETD_HTTP_MODEL_NAME',
      },
      origins: {
        doc: 'Web pages (origins) whose browsers may call the API besides those on this machine, as Ollama\'s OLLAMA_ORIGINS; "*" is any. Clients that are not browsers (Home Assistant) send no origin and are not affected.',
        format: 'origin-list',
        default: [],
        env: 'BITNETD_HTTP_ORIGINS',
      },
      max_body_bytes: { doc: 'Largest request body accepted.', format: 'nat', default: 4 << 20 },
    },
    wyoming: {
      port: {
        doc: 'Port of the Wyoming handle service (a conversation agent for Home Assistant\'s voice pipelines); 0 turns it off.',
        format: 'port',
        default: 10800,
        env: 'BITNETD_WYOMING_PORT',
      },
      host: {
        doc: 'Address the Wyoming service listens on: loopback by default; 0.0.0.0 for Home Assistant on another machine, which then discovers it over zeroconf (Wyoming has no authentication).',
        format: String,
        default: '127.0.0.1',
        env: 'BITNETD_WYOMING_HOST',
      },
      zeroconf: {
        doc: 'Announce the Wyoming service over mDNS (_wyoming._tcp.local.) when it listens beyond loopback.',
        format: Boolean,
        default: true,
        env: 'BITNETD_WYOMING_ZEROCONF',
      },
      name: {
        doc: 'The zeroconf instance name; empty means bitnetd-<node_id>.',
        format: String,
        default: '',
        env: 'BITNETD_WYOMING_NAME',
      },
      zeroconf_interfaces: {
        doc: 'Network interfaces whose addresses the zeroconf announcement gives (e.g. ["eth0", "wlan0"]); empty means all but loopback and container or VM networks (docker0, br-<id>, veth*, virbr*, lxcbr*, cni*, podman*, ...).',
        format: 'interface-list',
        default: [] as string[],
        env: 'BITNETD_WYOMING_ZEROCONF_INTERFACES',
      },
      languages: {
        doc: 'Languages Home Assistant may send (the model answers best in English); an empty list means any.',
        format: 'language-list',
        default: ['en'],
        env: 'BITNETD_WYOMING_LANGUAGES',
      },
      max_event_bytes: { doc: 'Largest Wyoming event accepted.', format: 'nat', default: 1 << 20 },
      max_connections: { doc: 'Clients connected at once; more are turned away.', format: 'positive-int', default: 16 },
      idle_timeout_s: { doc: 'A connection that sends nothing and waits for no answer this long is closed; 0 never.', format: 'nat', default: 300 },
    },
    log: {
      level: {
        doc: 'error, warn, info or debug (debug also logs prompt and answer text).',
        format: ['error', 'warn', 'info', 'debug'],
        default: 'info',
        env: 'BITNETD_LOG_LEVEL',
      },
      format: {
        doc: 'auto (journal under systemd, text otherwise), text, journal or json.',
        format: ['auto', 'text', 'journal', 'json'],
        default: 'auto',
        env: 'BITNETD_LOG_FORMAT',
      },
    },
    power: {
      budget_watts: {
        doc: 'Power budget: the moving average of the measured (or modelled) power stays at or below it, by fewer threads and then pauses between tokens; 0 means none. Set at run time over MQTT or the socket, it is saved in power.state_file and outranks this.',
        format: 'non-negative',
        default: 0,
        env: 'BITNETD_POWER_BUDGET_WATTS',
      },
      max_temp_c: {
        doc: 'Back off at this temperature (the hottest thermal zone), before the firmware throttles (a Raspberry Pi at 80-85 °C); 0 means no limit.',
        format: 'non-negative',
        default: 75,
        env: 'BITNETD_POWER_MAX_TEMP_C',
      },
      source: {
        doc: 'Where power comes from: auto (the first found of rapl, ina2xx, ina3221, pi5-pmic, else model), or one of them (an error when it is not there).',
        format: ['auto', ...POWER_SOURCE_KINDS],
        default: 'auto',
        env: 'BITNETD_POWER_SOURCE',
      },
      interval_ms: {
        doc: 'How often power and temperature are read and the threads adjusted.',
        format: 'nat',
        default: 500,
        env: 'BITNETD_POWER_INTERVAL_MS',
      },
      state_file: {
        doc: 'Where limits set at run time are kept (under systemd: $STATE_DIRECTORY/power.json).',
        format: String,
        default: paths.powerState,
        env: 'BITNETD_POWER_STATE_FILE',
      },
      model: {
        idle_watts: {
          doc: 'The power model (used without a sensor): watts of the idle board. Defaults fit a Raspberry Pi 4 at the wall; calibrate (README).',
          format: 'non-negative',
          default: 2.7,
          env: 'BITNETD_POWER_MODEL_IDLE_WATTS',
        },
        watts_per_core: {
          doc: 'The power model: watts one fully busy core adds at its highest frequency.',
          format: 'non-negative',
          default: 0.9,
          env: 'BITNETD_POWER_MODEL_WATTS_PER_CORE',
        },
        alpha: {
          doc: 'The power model: a busy core draws watts_per_core × (f / f_max)^alpha (2-3 under DVFS, 1 at fixed voltage).',
          format: 'non-negative',
          default: 2,
          env: 'BITNETD_POWER_MODEL_ALPHA',
        },
      },
    },
    shutdown: {
      grace_ms: {
        doc: 'On SIGTERM, how long running requests may finish before they are cancelled.',
        format: 'nat',
        default: 10_000,
        env: 'BITNETD_SHUTDOWN_GRACE_MS',
      },
    },
  } satisfies convict.Schema<unknown>;
}

export interface Config {
  node_id: string;
  model: { path: string; url: string; sha256: string; auto_pull: boolean; threads: number; head: 'q8' | 'f16'; context: number };
  cache: { slots: number; max_mb: number; persist: boolean; save_idle_s: number; dir: string };
  generation: { max_tokens: number; conversations: number };
  queue: { max: number; deadline_ms: number };
  mqtt: {
    url: string;
    protocol_version: 4 | 5;
    base_topic: string;
    shared: boolean;
    qos: 0 | 1 | 2;
    client_id: string;
    username: string;
    password: string;
    ca: string;
    cert: string;
    key: string;
    reject_unauthorized: boolean;
    discovery: boolean;
    discovery_prefix: string;
    max_payload_bytes: number;
    keepalive_s: number;
    reconnect_min_ms: number;
    reconnect_max_ms: number;
  };
  socket: { enabled: boolean; path: string; mode: string; group: string; max_line_bytes: number; max_connections: number };
  http: { port: number; host: string; token: string; model_name: string; origins: string[]; max_body_bytes: number };
  wyoming: { port: number; host: string; zeroconf: boolean; name: string; zeroconf_interfaces: string[]; languages: string[]; max_event_bytes: number; max_connections: number; idle_timeout_s: number };
  log: { level: LogLevel; format: 'auto' | 'text' | 'journal' | 'json' };
  power: {
    budget_watts: number;
    max_temp_c: number;
    source: 'auto' | PowerSourceKind;
    interval_ms: number;
    state_file: string;
    model: { idle_watts: number; watts_per_core: number; alpha: number };
  };
  shutdown: { grace_ms: number };
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
