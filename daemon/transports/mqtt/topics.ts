// bitnetd's MQTT topics under <base>/<node_id>/, in one place (the transport, its Home Assistant device
// and `bitnetd ha-remove` use them).
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
