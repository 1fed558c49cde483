// Flags shared by "serve" and "config": the most used settings, above every other source.
import { Command, Option } from 'commander';
import type { ConfigSources } from '../config/load.js';

interface ConfigFlags {
  config?: string;
  model?: string;
  threads?: string;
  nodeId?: string;
  mqttUrl?: string;
  socket?: string;
  logLevel?: string;
  logFormat?: string;
}

/** flag → setting it overrides */
const FLAG_KEYS: [keyof ConfigFlags, string][] = [
  ['model', 'model.path'],
  ['threads', 'model.threads'],
  ['nodeId', 'node_id'],
  ['mqttUrl', 'mqtt.url'],
  ['socket', 'socket.path'],
  ['logLevel', 'log.level'],
  ['logFormat', 'log.format'],
];

export function addConfigFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('-c, --config <file>', 'configuration file (default: /etc/bitnetd/config.json if it exists)'))
    .option('-m, --model <path>', 'model file (model.path)')
    .option('-t, --threads <n>', 'compute threads, 0 = one per core (model.threads)')
    .option('--node-id <id>', 'name of this board in MQTT topics (node_id)')
    .option('--mqtt-url <url>', 'MQTT broker, "" to turn MQTT off (mqtt.url)')
    .option('--socket <path>', 'Unix socket path (socket.path)')
    .option('--log-level <level>', 'error, warn, info or debug (log.level)')
    .option('--log-format <format>', 'auto, text, journal or json (log.format)');
}

export function configSources(flags: ConfigFlags): ConfigSources {
  const overrides: Record<string, unknown> = {};
  for (const [flag, key] of FLAG_KEYS) if (flags[flag] !== undefined) overrides[key] = flags[flag];
  return { ...(flags.config !== undefined ? { file: flags.config } : {}), overrides };
}
