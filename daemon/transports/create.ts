// The transports the configuration turns on, in the order they start. Adding a transport: its folder,
// a class that implements Transport, and one line here (plus its settings in config/schema.ts).
import type { Config } from '../config/schema.js';
import { listenFds } from '../systemd.js';
import { MqttTransport } from './mqtt/mqtt-transport.js';
import { OllamaTransport } from './ollama/ollama-transport.js';
import type { ServedModel } from './served-model.js';
import { SocketTransport } from './socket/socket-transport.js';
import type { Transport, TransportContext } from './transport.js';
import { WyomingTransport } from './wyoming/wyoming-transport.js';

export type { Transport, TransportContext } from './transport.js';
export type { ServedModel } from './served-model.js';

export function createTransports(config: Config, context: TransportContext, served: ServedModel): Transport[] {
  const transports: Transport[] = [];
  if (config.socket.enabled) transports.push(new SocketTransport(config.socket, context, listenFds()[0]));
  if (config.mqtt.url) transports.push(new MqttTransport(config.mqtt, config.node_id, context));
  if (config.http.port) transports.push(new OllamaTransport(config.http, context, served));
  if (config.wyoming.port) transports.push(new WyomingTransport(config.wyoming, config.node_id, context, served));
  return transports;
}
