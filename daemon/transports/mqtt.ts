// MQTT (v5 by default, 3.1.1 as an option). Requests arrive on <base>/<node_id>/request (and, when
// shared, on $share/<base>/<base>/request). Answers go to the v5 Response Topic with the Correlation
// Data echoed, else to the payload's reply_to, else to <base>/<node_id>/response/<id>.
// <base>/<node_id>/state is retained JSON, with a retained "offline" will. <base>/<node_id>/power/set
// takes a power budget ("4.5", "off" or a JSON power command); the state then shows the new limits.
// With discovery on, Home Assistant's device payload is published (again whenever HA comes online), and
// the topics of its entities are served: prompt (a question; the answer lands, retained, on answer),
// cancel, and threads/set.
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { powerEvent, statusEvent, type Control } from '../control.js';
import type { Logger } from '../log.js';
import { answerPayload, discoveryPayload, discoveryTopic } from '../ha/discovery.js';
import { errorEvent, parseMessage, parsePowerPayload, type ParsedMessage, type ServerEvent } from '../protocol.js';
import type { Job, Scheduler } from '../scheduler.js';

export interface MqttTopics {
  request: string;
  shared: string;
  state: string;
  powerSet: string;
  threadsSet: string;
  prompt: string;
  answer: string;
  cancel: string;
  response: (id: string) => string;
}

export function mqttTopics(base: string, nodeId: string): MqttTopics {
  return {
    request: `${base}/${nodeId}/request`,
    shared: `$share/${base}/${base}/request`,
    state: `${base}/${nodeId}/state`,
    powerSet: `${base}/${nodeId}/power/set`,
    threadsSet: `${base}/${nodeId}/threads/set`,
    prompt: `${base}/${nodeId}/prompt`,
    answer: `${base}/${nodeId}/answer`,
    cancel: `${base}/${nodeId}/cancel`,
    response: (id) => `${base}/${nodeId}/response/${id}`,
  };
}

const STATE_MIN_INTERVAL_MS = 500;

export class MqttTransport {
  private readonly client: MqttClient;
  private readonly topics: MqttTopics;
  private readonly v5: boolean;
  private failures = 0;
  private stopping = false;
  private stateTimer: NodeJS.Timeout | undefined;
  private lastStateAt = 0;
  /** Requests from MQTT by id, so that {"cancel": id} on the request topic can stop them. */
  private readonly jobs = new Map<string, Job>();
  private readonly haStatus: string;
  private nextPrompt = 1;

  constructor(
    private readonly cfg: Config['mqtt'],
    private readonly nodeId: string,
    private readonly scheduler: Scheduler,
    private readonly control: Control,
    private readonly log: Logger,
  ) {
    this.topics = mqttTopics(cfg.base_topic, nodeId);
    this.haStatus = `${cfg.discovery_prefix}/status`;
    this.v5 = cfg.protocol_version === 5;
    this.client = connect(cfg.url, this.clientOptions());
    this.client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    this.client.on('error', (err) => this.onTrouble(`error: ${err.message}`));
    this.client.on('offline', () => {
      if (!this.stopping) this.log.warn('mqtt: disconnected from the broker; reconnecting', { url: cfg.url });
    });
    this.client.on('reconnect', () => this.backOff());
    scheduler.on('change', () => this.publishStateSoon());
  }

  /** Something the state topic reports changed outside the scheduler (power, temperature). */
  stateChanged(): void {
    this.publishStateSoon();
  }

  private clientOptions(): IClientOptions {
    const c = this.cfg;
    const offline = JSON.stringify({ state: 'offline', online: false, node_id: this.nodeId });
    return {
      protocolVersion: c.protocol_version,
      clientId: c.client_id || `bitnetd_${this.nodeId}`,
      clean: true,
      keepalive: c.keepalive_s,
      reconnectPeriod: c.reconnect_min_ms,
      connectTimeout: 10_000,
      resubscribe: false, // onConnect subscribes whenever the broker has no session for us
      will: { topic: this.topics.state, payload: Buffer.from(offline), qos: 1, retain: true },
      ...brokerCredentials(c),
    };
  }

  private onConnect(sessionPresent: boolean): void {
    this.log.info('mqtt: connected', { url: this.cfg.url, protocol: this.cfg.protocol_version, request_topic: this.topics.request });
    this.failures = 0;
    this.client.options.reconnectPeriod = this.cfg.reconnect_min_ms;
    if (!sessionPresent) {
      const topics = [
        this.topics.request,
        this.topics.powerSet,
        ...(this.cfg.shared ? [this.topics.shared] : []),
        ...(this.cfg.discovery ? [this.topics.prompt, this.topics.cancel, this.topics.threadsSet, this.haStatus] : []),
      ];
      this.client.subscribe(topics, { qos: 1 }, (err, granted) => {
        if (err) return this.log.error('mqtt: subscribe failed', { error: err.message });
        const refused = (granted ?? []).filter((g) => g.qos > 2);
        for (const g of refused) this.log.error('mqtt: the broker refused a subscription', { topic: g.topic, reason: g.qos });
        if (!refused.length) this.log.info('mqtt: subscribed', { topics });
      });
    }
    this.publishDiscovery();
    this.publishState();
  }

  /** Home Assistant's device payload, retained, so that HA finds this board whenever it starts. */
  private publishDiscovery(): void {
    if (!this.cfg.discovery || !this.client.connected) return;
    const state = this.control.status();
    const payload = discoveryPayload(this.nodeId, this.topics, state.max_threads, state.model);
    this.client.publish(discoveryTopic(this.cfg.discovery_prefix, this.nodeId), JSON.stringify(payload), { qos: 1, retain: true });
  }

  /** Logs the first error of an outage as a warning and the rest quietly. */
  private onTrouble(what: string): void {
    if (this.stopping) return;
    this.failures++;
    if (this.failures === 1) this.log.warn(`mqtt: ${what}`, { url: this.cfg.url });
    else this.log.debug(`mqtt: ${what}`, { url: this.cfg.url, failures: this.failures });
  }

  /** mqtt.js retries at a fixed period; double it on each failed attempt, up to the maximum. */
  private backOff(): void {
    const next = Math.min(this.cfg.reconnect_max_ms, this.cfg.reconnect_min_ms * 2 ** Math.min(this.failures, 16));
    if (next === this.client.options.reconnectPeriod) return;
    this.client.options.reconnectPeriod = next;
    // The retry timer is an interval fixed when the outage began: restart it with the new period.
    const internals = this.client as unknown as { _clearReconnect?: () => void; _setupReconnect?: () => void };
    internals._clearReconnect?.();
    internals._setupReconnect?.();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic === this.topics.powerSet) return this.onPowerSet(payload);
    if (this.cfg.discovery) {
      if (topic === this.haStatus) return this.onHaStatus(payload.toString('utf8'));
      if (topic === this.topics.prompt) return this.onPrompt(payload.toString('utf8'));
      if (topic === this.topics.cancel) return void this.control.cancelRunning();
      if (topic === this.topics.threadsSet) return this.onThreadsSet(payload.toString('utf8'));
    }
    const props = packet.properties ?? {};
    const receivedAt = Date.now();
    const msg: ParsedMessage =
      payload.length > this.cfg.max_payload_bytes
        ? { kind: 'invalid', message: `a request of ${payload.length} bytes is over the limit of ${this.cfg.max_payload_bytes}` }
        : parseMessage(payload.toString('utf8'));
    const id = msg.kind === 'generate' ? msg.request.id : msg.id;
    const replyTo =
      props.responseTopic ?? (msg.kind === 'generate' ? msg.request.reply_to : undefined) ?? this.topics.response(id ?? 'invalid');
    const send = this.sender(replyTo, props.correlationData);

    if (msg.kind === 'invalid') return send(errorEvent(msg.id, 'bad_request', msg.message));
    if (msg.kind === 'cancel') {
      const job = this.jobs.get(msg.id);
      if (job) return job.cancel('cancelled'); // its own answer says so
      return send(errorEvent(msg.id, 'bad_request', `no MQTT request "${msg.id}" is running or waiting`));
    }
    if (msg.kind === 'status') return send(statusEvent(this.control, msg.id));
    if (msg.kind === 'power') return send(powerEvent(this.control, msg.id, msg.limits));
    const expiry = props.messageExpiryInterval;
    const job = this.scheduler.submit(msg.request, send, {
      source: 'mqtt',
      ...(expiry !== undefined ? { startBy: receivedAt + expiry * 1000 } : {}),
    });
    if (!job || job.state === 'finished') return;
    this.jobs.set(job.id, job);
    this.log.debug('mqtt: request accepted', { id: job.id, topic, reply_to: replyTo, expiry_s: expiry });
  }

  /** The power command topic (a Home Assistant number entity publishes a plain number there). */
  private onPowerSet(payload: Buffer): void {
    const limits = parsePowerPayload(payload.toString('utf8'));
    if (typeof limits === 'string') {
      this.log.warn(`mqtt: ${this.topics.powerSet}: ${limits}`);
      return;
    }
    const event = powerEvent(this.control, undefined, limits);
    if (event.type === 'error') this.log.error(`mqtt: ${this.topics.powerSet}: ${event.message}`);
    // Accepted limits show in the state topic, which the power governor republishes on the change.
  }

  /** HA restarted (its birth message): it has forgotten what is not retained, so say it all again. */
  private onHaStatus(text: string): void {
    if (text.trim() !== 'online') return;
    this.log.info('mqtt: Home Assistant is online; publishing discovery and state again');
    this.publishDiscovery();
    this.publishState();
  }

  /** A question from HA's text entity: answered on the answer topic, retained, for its sensor. */
  private onPrompt(text: string): void {
    const prompt = text.trim();
    if (!prompt) return;
    const id = `ha-${this.nextPrompt++}`;
    this.scheduler.submit({ id, prompt }, (event) => {
      if (event.type === 'token') return;
      const answer =
        event.type === 'done' ? answerPayload(prompt, event.text, event.generated_tokens) : event.type === 'error' ? answerPayload(prompt, `error: ${event.message}`, 0) : undefined;
      if (answer) this.client.publish(this.topics.answer, JSON.stringify(answer), { qos: 1, retain: true });
    }, { source: 'mqtt' });
  }

  /** HA's thread cap number: an integer, or "off" for model.threads. */
  private onThreadsSet(text: string): void {
    const value = text.trim();
    const n = /^(off|none)$/i.test(value) ? null : Number(value);
    if (n !== null && !(Number.isInteger(n) && n >= 1 && n <= 256)) {
      this.log.warn(`mqtt: ${this.topics.threadsSet}: a thread count is an integer from 1 to 256, or "off" (got ${JSON.stringify(value.slice(0, 40))})`);
      return;
    }
    try {
      this.control.setThreadCap(n);
    } catch (err) {
      this.log.error(`mqtt: ${this.topics.threadsSet}: ${(err as Error).message}`);
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
      if (event.type !== 'token' && event.id !== null) this.jobs.delete(event.id);
      this.client.publish(topic, JSON.stringify(event), options, (err) => {
        if (err) this.log.warn('mqtt: an answer could not be published', { topic, id: event.id, error: err.message });
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
    if (this.stopping || !this.client.connected) return;
    this.lastStateAt = Date.now();
    const state = { state: 'online', online: true, node_id: this.nodeId, ...this.control.status() };
    this.client.publish(this.topics.state, JSON.stringify(state), { qos: 1, retain: true });
  }

  /** Publishes the retained offline state, delivers what is queued and disconnects. */
  async close(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.stateTimer);
    const offline = JSON.stringify({ state: 'offline', online: false, node_id: this.nodeId });
    if (this.client.connected) {
      await withTimeout(this.client.publishAsync(this.topics.state, offline, { qos: 1, retain: true }), timeoutMs).catch(() => {});
    }
    await withTimeout(this.client.endAsync(), timeoutMs).catch(() => this.client.end(true));
  }
}

/** The user name, password and TLS files of the broker connection (throws ConfigError for a bad file). */
export function brokerCredentials(c: Config['mqtt']): IClientOptions {
  return {
    ...(c.username ? { username: c.username } : {}),
    ...(c.password ? { password: c.password } : {}),
    ...(c.ca ? { ca: readPem(c.ca, 'mqtt.ca') } : {}),
    ...(c.cert ? { cert: readPem(c.cert, 'mqtt.cert') } : {}),
    ...(c.key ? { key: readPem(c.key, 'mqtt.key') } : {}),
    rejectUnauthorized: c.reject_unauthorized,
  };
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(err as Error).message}`);
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
