// The limits of a generation request, the same on every transport (socket, MQTT and its Home Assistant
// prompt topic, the Ollama API, Wyoming, the command line): defined here once, enforced by check.ts.
// A transport's own framing limit (socket.max_line_bytes, mqtt.max_payload_bytes, http.max_body_bytes,
// wyoming.max_event_bytes) bounds the bytes it reads before any of these apply.
export const LIMITS = {
  /** An id, a conversation name. */
  idLength: 128,
  /** The prompt, the system message, each message's content (characters). */
  textLength: 256 * 1024,
  messages: 512,
  stopStrings: 16,
  stopLength: 256,
  maxTokens: 1 << 20,
  deadlineMs: 24 * 3600 * 1000,
  tools: 128,
  toolNameLength: 128,
  toolDescriptionLength: 4096,
  /** The JSON schemas of a request (format, and every tool's parameters), in bytes of JSON text in all. */
  schemaBytes: 128 * 1024,
  /** How deep objects and arrays may nest inside one of those schemas. */
  schemaDepth: 32,
  /** Alternatives of one schema (anyOf, oneOf, nested ones flattened): a tool call is one per tool. */
  schemaAlternatives: 256,
  /** Members of one enum. */
  enumValues: 256,
  replyToLength: 1024,
} as const;
