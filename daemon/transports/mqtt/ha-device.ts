// This board as a Home Assistant device over MQTT (mqtt.discovery): the retained discovery payload
// (ha-discovery.ts), published again whenever HA comes online, and the topics of its entities: prompt
// (a question; the answer lands, retained, on answer) and cancel (threads/set and power/set, which its numbers
// command, are the MQTT transport's own: they work without discovery). It publishes through the
// function it is handed; the MQTT transport routes it the messages of the topics it lists.
import type { IClientPublishOptions } from 'mqtt';
import { checkRequest } from '../../requests/check.js';
import type { TransportContext } from '../transport.js';
import { answerPayload, discoveryPayload, discoveryTopic } from './ha-discovery.js';
import type { MqttTopics } from './topics.js';

export type Publish = (topic: string, payload: string, options: IClientPublishOptions) => void;

export class HomeAssistantDevice {
  private readonly haStatus: string;
  private nextPrompt = 1;

  constructor(
    private readonly nodeId: string,
    private readonly discoveryPrefix: string,
    private readonly topics: MqttTopics,
    private readonly context: TransportContext,
    private readonly publish: Publish,
    /** Publishes the state topic again (HA forgot it when it restarted). */
    private readonly republishState: () => void,
  ) {
    this.haStatus = `${discoveryPrefix}/status`;
  }

  /** The topics it serves. */
  subscriptions(): string[] {
    return [this.topics.prompt, this.topics.cancel, this.haStatus];
  }

  /** Handles a message of one of its topics; false for any other topic. */
  onMessage(topic: string, text: string): boolean {
    if (topic === this.haStatus) this.onHaStatus(text);
    else if (topic === this.topics.prompt) this.onPrompt(text);
    else if (topic === this.topics.cancel) this.context.control.cancelRunning();
    else return false;
    return true;
  }

  /** The device payload, retained, so that HA finds this board whenever it starts. */
  announce(): void {
    const state = this.context.control.status();
    const payload = discoveryPayload(this.nodeId, this.topics, state.thread_limit, state.model);
    this.publish(discoveryTopic(this.discoveryPrefix, this.nodeId), JSON.stringify(payload), { qos: 1, retain: true });
  }

  /** HA restarted (its birth message): it has forgotten what is not retained, so say it all again. */
  private onHaStatus(text: string): void {
    if (text.trim() !== 'online') return;
    this.context.log.info('mqtt: Home Assistant is online; publishing discovery and state again');
    this.announce();
    this.republishState();
  }

  /** A question from HA's text entity: checked as every request is, answered on the answer topic,
   * retained, for its sensor (an error too, so that the user sees why). */
  private onPrompt(text: string): void {
    const prompt = text.trim();
    if (!prompt) return;
    const answer = (body: string, tokens: number) =>
      this.publish(this.topics.answer, JSON.stringify(answerPayload(prompt, body, tokens)), { qos: 1, retain: true });
    const checked = checkRequest({ id: `ha-${this.nextPrompt++}`, prompt });
    if (!checked.ok) return answer(`error: ${checked.message}`, 0);
    this.context.submit(checked.request, (event) => {
      if (event.type === 'done') answer(event.text, event.generated_tokens);
      else if (event.type === 'error') answer(`error: ${event.message}`, 0);
    }, { source: 'mqtt' });
  }
}
