// A test MQTT client that records every message it receives, with its v5 properties.
import { connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { ServerEvent } from '../../daemon/protocol.js';
import { Changes } from './changes.js';

export interface Received {
  topic: string;
  event: ServerEvent;
  packet: IPublishPacket;
}

export class MqttRecorder {
  readonly received: Received[] = [];
  private readonly changes = new Changes();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let event: ServerEvent;
      try {
        event = JSON.parse(payload.toString()) as ServerEvent;
      } catch {
        return;
      }
      this.received.push({ topic, event, packet });
      this.changes.changed();
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<MqttRecorder> {
    return new MqttRecorder(await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...options }));
  }

  on(topic: string): Received[] {
    return this.received.filter((r) => r.topic === topic);
  }

  waitFor<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    return this.changes.waitFor(check, timeoutMs, () => JSON.stringify(this.received.map((r) => [r.topic, r.event])).slice(0, 3000));
  }

  /** Waits for the final event (done or error) on a topic. */
  final(topic: string, timeoutMs?: number): Promise<Received> {
    return this.waitFor(() => this.on(topic).find((r) => r.event.type !== 'token'), timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
