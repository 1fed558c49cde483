// A test MQTT client that records every message it receives, with its v5 properties.
import { connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { ServerEvent } from '../../daemon/protocol.js';

export interface Received {
  topic: string;
  event: ServerEvent;
  packet: IPublishPacket;
}

export class MqttRecorder {
  readonly received: Received[] = [];
  private listeners: (() => void)[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let event: ServerEvent;
      try {
        event = JSON.parse(payload.toString()) as ServerEvent;
      } catch {
        return;
      }
      this.received.push({ topic, event, packet });
      this.listeners.forEach((l) => l());
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<MqttRecorder> {
    return new MqttRecorder(await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...options }));
  }

  on(topic: string): Received[] {
    return this.received.filter((r) => r.topic === topic);
  }

  waitFor<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = () => {
        const v = check();
        if (v !== undefined) finish(() => resolve(v));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out; received: ${JSON.stringify(this.received.map((r) => [r.topic, r.event])).slice(0, 3000)}`))),
        timeoutMs,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== run);
        f();
      };
      this.listeners.push(run);
      run();
    });
  }

  /** Waits for the final event (done or error) on a topic. */
  final(topic: string, timeoutMs?: number): Promise<Received> {
    return this.waitFor(() => this.on(topic).find((r) => r.event.type !== 'token'), timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
