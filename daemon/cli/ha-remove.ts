// bitnetd ha-remove: takes this board out of Home Assistant: empty retained payloads on its discovery
// topic (HA then deletes the device and its entities) and on its retained state and answer topics.
// Stop the daemon first (or set mqtt.discovery false), or it publishes discovery again when it connects.
import { connectAsync } from 'mqtt';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { maskUrlPassword } from '../config/secrets.js';
import { EXIT } from '../exit-codes.js';
import { brokerCredentials } from '../transports/mqtt/broker-options.js';
import { discoveryTopic } from '../transports/mqtt/ha-discovery.js';
import { mqttTopics } from '../transports/mqtt/topics.js';
import { addConfigFlags, configSources } from './config-flags.js';

export function haRemoveCommand(): Command {
  return addConfigFlags(new Command('ha-remove'))
    .description('remove this board from Home Assistant (clears its MQTT discovery and retained topics)')
    .action(async (flags: Parameters<typeof configSources>[0]) => {
      let config: Config;
      try {
        config = loadConfig(configSources(flags)).config;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`bitnetd: ${err.message}\n`);
        process.exitCode = EXIT.CONFIG;
        return;
      }
      const m = config.mqtt;
      if (!m.url) throw new Error('MQTT is off (mqtt.url is empty): there is nothing to remove');
      const client = await connectAsync(m.url, {
        protocolVersion: m.protocol_version,
        clientId: `bitnetd_${config.node_id}_remove`,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ...brokerCredentials(m),
      }).catch((err: Error) => {
        throw new Error(`cannot reach the broker at ${maskUrlPassword(m.url)}: ${err.message}`);
      });
      const topics = mqttTopics(m.base_topic, config.node_id);
      const cleared = [discoveryTopic(m.discovery_prefix, config.node_id), topics.state, topics.answer];
      for (const topic of cleared) await client.publishAsync(topic, '', { qos: 1, retain: true });
      await client.endAsync();
      process.stdout.write(`cleared ${cleared.join(', ')}\n`);
    });
}
