// MQTT (v5 by default, 3.1.1 as an option). Requests arrive on <base>/<node_id>/request (and, when
// shared, on $share/<base>/<base>/request). Answers go to the v5 Response Topic with the Correlation
// Data echoed, else to the payload's reply_to, else to <base>/<node_id>/response/<id>.
// <base>/<node_id>/state is retained JSON, with a retained "offline" will. <base>/<node_id>/power/set
// takes a power budget ("4.5", "off" or a JSON power command), <base>/<node_id>/threads/set a thread cap
// ("2" or "off"); the state then shows the new limits.
// With discovery on, the Home Assistant device (ha-device.ts) is published and its topics served.
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Config } from '../../config/schema.js';
import { maskUrlPassword } from '../../config/secrets.js';
import { powerEvent } from '../../control.js';
import type { ServerEvent } from '../../protocol.js';
import { parsePowerPayload, type ParsedMessage } from '../../requests/messages.js';
import { MessageChannel } from '../message-channel.js';
import type { Transport, TransportContext } from '../transport.js';
import { brokerCredentials } from './broker-options.js';
import { HomeAssistantDevice } from './ha-device.js';
import { mqttTopics, type MqttTopics } from './topics.js';

const STATE_MIN_INTERVAL_MS = 500;
/** How often a second board on the same node_id is reported. */
const TWIN_WARNING_INTERVAL_MS = 60_000;

export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  private client: MqttClient | undefined;
  private readonly topics: MqttTopics;
  private readonly v5: boolean;
  private failures = 0;
  private stopping = false;
  private stateTimer: NodeJS.Timeout | undefined;
  private lastStateAt = 0;
  /** Requests from MQTT by id, so that {"cancel": id} on the request topic can stop them. */
  private readonly channel: MessageChannel;
  private readonly device: HomeAssistantDevice | undefined;
  /** This process among boards that may share a node_id: in the client id and the state. */
  private readonly instance = randomBytes(4).toString('hex');
  private lastTwinWarning = 0;

  constructor(
    private readonly cfg: Config['mqtt'],
    private readonly nodeId: string,
    private readonly context: TransportContext,
  ) {
    this.topics = mqttTopics(cfg.base_topic, nodeId);
    this.v5 = cfg.protocol_version === 5;
    this.channel = new MessageChannel(context, 'over MQTT', { source: 'mqtt' });
    if (cfg.discovery) {
      const publish = (topic: string, payload: string, options: IClientPublishOptions) => {
        if (this.client?.connected) this.client.publish(topic, payload, options);
      };
      this.device = new HomeAssistantDevice(nodeId, cfg.discovery_prefix, this.topics, context, publish, () => this.publishState());
    }
    context.onStateChange(() => this.publishStateSoon());
  }

  /** The broker's URL, without a password written into it. */
  describe(): string {
    return maskUrlPassword(this.cfg.url);
  }

  /** Connects in the background: the daemon serves its other transports while the broker is away. */
  async start(): Promise<void> {
    const client = connect(this.cfg.url, this.clientOptions()); // throws a ConfigError for an unreadable TLS file
    this.client = client;
    client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('error', (err) => this.onTrouble(`error: ${err.message}`));
    client.on('offline', () => {
      if (!this.stopping) this.context.log.warn('mqtt: disconnected from the broker; reconnecting', { url: this.describe() });
    });
    client.on('reconnect', () => this.backOff());
  }

  /** MQTT has no listener: requests already received are answered through the open connection. */
  stopAccepting(): void {}

  private clientOptions(): IClientOptions {
    const c = this.cfg;
    return {
      protocolVersion: c.protocol_version,
      // Two boards left on the same node_id (a Pi's host name is "raspberrypi") must not take over each
      // other's connection, over and over: the client id is this process's own.
      clientId: c.client_id || `bitnetd_${this.nodeId}_${this.instance}`,
      clean: true,
      keepalive: c.keepalive_s,
      reconnectPeriod: c.reconnect_min_ms,
      connectTimeout: 10_000,
      resubscribe: false, // onConnect subscribes whenever the broker has no session for us
      will: { topic: this.topics.state, payload: Buffer.from(this.offlineState()), qos: 1, retain: true },
      ...brokerCredentials(c),
    };
  }

  /** The retained state while this board is away: every field of the online state (Home Assistant's
   * templates read them whatever the availability says; a missing one is a template error, an empty
   * thread cap a rejected value), at its last value, idle. */
  private offlineState(online = this.onlineState()): string {
    return JSON.stringify({ ...online, state: 'offline', online: false, busy: false, queued: 0 });
  }

  private onlineState(): Record<string, unknown> {
    return { state: 'online', online: true, node_id: this.nodeId, instance: this.instance, ...this.context.control.status() };
  }

  private onConnect(sessionPresent: boolean): void {
    const client = this.client!;
    const log = this.context.log;
    log.info('mqtt: connected', { url: this.describe(), protocol: this.cfg.protocol_version, request_topic: this.topics.request });
    this.failures = 0;
    client.options.reconnectPeriod = this.cfg.reconnect_min_ms;
    if (!sessionPresent) {
      const topics = [this.topics.request, this.topics.powerSet, this.topics.threadsSet, this.topics.state, ...(this.cfg.shared ? [this.topics.shared] : []), ...(this.device?.subscriptions() ?? [])];
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        if (err) return log.error('mqtt: subscribe failed', { error: err.message });
        const refused = (granted ?? []).filter((g) => g.qos > 2);
        for (const g of refused) log.error('mqtt: the broker refused a subscription', { topic: g.topic, reason: g.qos });
        if (!refused.length) log.info('mqtt: subscribed', { topics });
      });
    }
    this.device?.announce();
    this.publishState();
  }

  /** Logs the first error of an outage as a warning and the rest quietly. */
  private onTrouble(what: string): void {
    if (this.stopping) return;
    this.failures++;
    if (this.failures === 1) this.context.log.warn(`mqtt: ${what}`, { url: this.describe() });
    else this.context.log.debug(`mqtt: ${what}`, { url: this.describe(), failures: this.failures });
  }

  /** mqtt.js retries at a fixed period; double it on each failed attempt, up to the maximum. */
  private backOff(): void {
    const client = this.client!;
    const next = Math.min(this.cfg.reconnect_max_ms, this.cfg.reconnect_min_ms * 2 ** Math.min(this.failures, 16));
    if (next === client.options.reconnectPeriod) return;
    client.options.reconnectPeriod = next;
    // The retry timer is an interval fixed when the outage began: restart it with the new period.
    const internals = client as unknown as { _clearReconnect?: () => void; _setupReconnect?: () => void };
    internals._clearReconnect?.();
    internals._setupReconnect?.();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const props = packet.properties ?? {};
    const tooLong = payload.length > this.cfg.max_payload_bytes ? `a payload of ${payload.length} bytes is over the limit of ${this.cfg.max_payload_bytes} (mqtt.max_payload_bytes)` : undefined;
    if (topic !== this.topics.request && topic !== this.topics.shared.replace(/^\$share\/[^/]+\//, '')) {
      if (tooLong) {
        this.context.log.warn(`mqtt: ${topic}: ${tooLong}; ignored`);
        return;
      }
      if (topic === this.topics.powerSet) return this.onPowerSet(payload.toString('utf8'));
      if (topic === this.topics.threadsSet) return this.onThreadsSet(payload.toString('utf8'));
      if (topic === this.topics.state) return this.onState(payload.toString('utf8'));
      if (this.device?.onMessage(topic, payload.toString('utf8'))) return;
    }
    // Answers go where the message asks (the v5 Response Topic, else reply_to) unless answers may not go
    // there; then to the default response topic, where the refusal says why.
    const answerTopic = (m?: ParsedMessage) => {
      const requested = props.responseTopic ?? (m?.kind === 'generate' ? m.request.reply_to : undefined);
      const id = m?.kind === 'generate' ? m.request.id : m?.id;
      return requested !== undefined && !this.forbiddenAnswerTopic(requested) ? requested : this.topics.response(id ?? 'invalid');
    };
    const correlation = props.correlationData;
    if (tooLong) return this.channel.refuse(this.sender(answerTopic(), correlation), tooLong);
    const expiry = props.messageExpiryInterval;
    const msg = this.channel.handle(
      payload.toString('utf8'),
      (m) => this.sender(answerTopic(m), correlation),
      expiry !== undefined ? { startBy: Date.now() + expiry * 1000 } : {},
      (request) => this.forbiddenAnswerTopic(props.responseTopic ?? request.reply_to),
    );
    if (msg.kind === 'generate') this.context.log.debug('mqtt: request received', { id: msg.request.id, topic, expiry_s: expiry });
  }

  /** Why answers may not go to this topic: Home Assistant's discovery topics and bitnetd's own (but a
   * board's responses) would take them for configuration or commands. */
  private forbiddenAnswerTopic(topic: string | undefined): string | undefined {
    if (topic === undefined) return undefined;
    const base = this.cfg.base_topic;
    const underBase = topic.startsWith(`${base}/`) && !/^[^/]+\/response\//.test(topic.slice(base.length + 1));
    if (topic.startsWith(`${this.cfg.discovery_prefix}/`) || underBase) {
      return `answers may not go to "${topic}": not to ${this.cfg.discovery_prefix}/… nor to ${base}/… other than ${base}/<node_id>/response/…`;
    }
    return undefined;
  }

  /** Our own state topic: another process saying it is online there is a second board on our node_id. */
  private onState(text: string): void {
    let state: { online?: unknown; instance?: unknown };
    try {
      state = JSON.parse(text) as typeof state;
    } catch {
      return;
    }
    if (state.online !== true || state.instance === this.instance || Date.now() - this.lastTwinWarning < TWIN_WARNING_INTERVAL_MS) return;
    this.lastTwinWarning = Date.now();
    this.context.log.warn(
      `mqtt: another bitnetd is online as node_id "${this.nodeId}" on this broker: both answer its requests and overwrite its state; give each board its own node_id`,
      { other_instance: String(state.instance), instance: this.instance },
    );
  }

  /** The power command topic (a Home Assistant number entity publishes a plain number there). */
  private onPowerSet(text: string): void {
    const limits = parsePowerPayload(text);
    if (typeof limits === 'string') {
      this.context.log.warn(`mqtt: ${this.topics.powerSet}: ${limits}`);
      return;
    }
    const event = powerEvent(this.context.control, undefined, limits);
    if (event.type === 'error') this.context.log.error(`mqtt: ${this.topics.powerSet}: ${event.message}`);
    // Accepted limits show in the state topic, which the power governor republishes on the change.
  }

  /** The thread cap topic (Home Assistant's Thread cap number publishes there): an integer, or "off" for model.threads. */
  private onThreadsSet(text: string): void {
    const value = text.trim();
    const n = /^(off|none)$/i.test(value) ? null : Number(value);
    const log = this.context.log;
    if (n !== null && !(Number.isInteger(n) && n >= 1 && n <= 256)) {
      log.warn(`mqtt: ${this.topics.threadsSet}: a thread count is an integer from 1 to 256, or "off" (got ${JSON.stringify(value.slice(0, 40))})`);
      return;
    }
    try {
      this.context.control.setThreadCap(n);
    } catch (err) {
      log.error(`mqtt: ${this.topics.threadsSet}: ${(err as Error).message}`);
    }
  }

  /** Publishes events of one request; mqtt.js queues them while the broker is away. */
  private sender(topic: string, correlationData: Buffer | undefined): (e: ServerEvent) => void {
    const options: IClientPublishOptions = { qos: this.cfg.qos };
    if (this.v5) {
      options.properties = {
        contentType: 'application/json',
        payloadFormatIndicator: true,
        userProperties: { node_id: this.nodeId },
        ...(correlationData ? { correlationData } : {}),
      };
    }
    return (event) => {
      this.client!.publish(topic, JSON.stringify(event), options, (err) => {
        if (err) this.context.log.warn('mqtt: an answer could not be published', { topic, id: event.id, error: err.message });
      });
    };
  }

  /** Publishes the state now, or soon if it was published a moment ago. */
  private publishStateSoon(): void {
    if (this.stateTimer) return;
    const wait = Math.max(0, this.lastStateAt + STATE_MIN_INTERVAL_MS - Date.now());
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      this.publishState();
    }, wait);
  }

  private publishState(): void {
    if (this.stopping || !this.client?.connected) return;
    this.lastStateAt = Date.now();
    const online = this.onlineState();
    this.client.publish(this.topics.state, JSON.stringify(online), { qos: 1, retain: true });
    // mqtt.js sends options.will with every reconnect: keep the will's values as recent as that.
    const will = this.client.options.will;
    if (will) will.payload = Buffer.from(this.offlineState(online));
  }

  /** Publishes the retained offline state, delivers what is queued and disconnects. */
  async close(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.stateTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await withTimeout(client.publishAsync(this.topics.state, this.offlineState(), { qos: 1, retain: true }), timeoutMs).catch(() => {});
    }
    await withTimeout(client.endAsync(), timeoutMs).catch(() => client.end(true));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
