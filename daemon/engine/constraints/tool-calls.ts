// Tool calling for a model that was not trained for it. The tools are described in the system prompt,
// with one rule: to call one, answer with nothing but {"name": ..., "arguments": {...}}. An answer that
// begins with "{" is then held, by constrained decoding, to the shape of a call of one of the tools
// with arguments that match its schema; any other answer is plain text. Either way the result is an
// answer or a call that parses, never an error.
import { JsonConstraint, type JsonSchema } from './json-constraint.js';
import type { TokenConstraint } from './token-constraint.js';
import type { VocabIndex } from './vocab-index.js';

export interface ToolSpec {
  name: string;
  description?: string;
  /** The arguments' JSON schema. */
  parameters?: JsonSchema;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** What the system prompt says about the tools. */
export function toolsPrompt(tools: readonly ToolSpec[]): string {
  const lines = tools.map((t) => `- ${t.name}: ${t.description ?? ''} Arguments: ${JSON.stringify(t.parameters ?? { type: 'object' })}`);
  return [
    'You can call tools. To call one, answer with only a JSON object {"name": "<tool name>", "arguments": {<its arguments>}} and nothing else;',
    'its result comes back in the next message. Otherwise answer in plain text. The tools:',
    ...lines,
  ].join('\n');
}

/** One call of any of the tools, with that tool's arguments. */
export function toolCallSchema(tools: readonly ToolSpec[]): JsonSchema {
  return {
    anyOf: tools.map((t) => ({
      type: 'object',
      properties: { name: { const: t.name }, arguments: { type: 'object', ...(t.parameters ?? {}) } },
      required: ['name', 'arguments'],
      additionalProperties: false,
    })),
  };
}

/** Lets anything through until the answer's first visible character; if that is "{", from then on
 * only a call of one of the tools. */
export class ToolCallConstraint implements TokenConstraint {
  private json: JsonConstraint | null = null;
  private decided = false;
  private readonly schema: JsonSchema;
  /** What may come while the answer has not shown whether it is a call (the same at every such step). */
  private undecided: Int32Array | undefined;

  constructor(tools: readonly ToolSpec[]) {
    this.schema = toolCallSchema(tools);
  }

  /** True once the answer is a tool call. */
  get isCall(): boolean {
    return this.json !== null;
  }

  get active(): boolean {
    return this.json !== null || !this.decided;
  }

  allows(bytes: Uint8Array): boolean {
    if (this.json) return this.json.allows(bytes);
    const start = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).trimStart();
    if (!start) return bytes.length > 0;
    return start[0] !== '{' || new JsonConstraint(this.schema).allows(new TextEncoder().encode(start));
  }

  allowedTokens(vocab: VocabIndex): Int32Array {
    if (this.json) return this.json.allowedTokens(vocab);
    if (!this.undecided) {
      // Anything that does not begin with "{", and of what does, only what can begin a call.
      const { start, rest } = vocab.braceStart;
      const calls = start.filter((id) => this.allows(vocab.vocab.bytesOf(id)));
      this.undecided = new Int32Array(rest.length + calls.length);
      this.undecided.set(rest);
      this.undecided.set(calls, rest.length);
    }
    return this.undecided;
  }

  accept(bytes: Uint8Array): void {
    if (this.json) return this.json.accept(bytes);
    if (this.decided) return;
    const start = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).trimStart();
    if (!start) return;
    this.decided = true;
    if (start[0] === '{') {
      this.json = new JsonConstraint(this.schema);
      this.json.accept(new TextEncoder().encode(start));
    }
  }

  get complete(): boolean {
    return this.json ? this.json.complete : true;
  }

  get finished(): boolean {
    return this.json ? this.json.finished : false;
  }

  finish(): string {
    return this.json ? this.json.finish() : '';
  }
}

/** The call an answer makes, if it is one of a known tool. */
export function parseToolCall(text: string, tools: readonly ToolSpec[]): ToolCall | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(trimmed) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const { name, arguments: args } = v as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string' || !tools.some((t) => t.name === name)) return undefined;
    return { name, arguments: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {} };
  } catch {
    return undefined;
  }
}
