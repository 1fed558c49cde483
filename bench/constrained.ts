// Constrained decoding against free decoding on the same model, as Home Assistant causes it: a call of
// one of its Assist tools (HassTurnOn, HassTurnOff, HassLightSet, GetLiveContext, with their argument
// schemas) and an AI Task answer to a JSON schema. Random weights are the worst case: the model never
// prefers what the schema allows, so every token is drawn from the constraint's own list, and strings
// run on until the token budget. Reports the time spent finding the allowed tokens per token (mask
// work) and the decode speed beside the free figure. Used by run.ts and runnable alone:
//   node dist/bench/constrained.js MODEL [threads]
import { fileURLToPath } from 'node:url';
import { BitnetModel, JsonConstraint, toolCallSchema, vocabIndex, type JsonSchema, type TokenConstraint, type ToolSpec } from '../daemon/engine/index.js';

/** The target every Assist intent takes. */
const TARGET = { name: { type: 'string' }, area: { type: 'string' }, floor: { type: 'string' } };

/** Assist's tools as Home Assistant's Ollama integration sends them (voluptuous-openapi schemas). */
export const HA_TOOLS: ToolSpec[] = [
  {
    name: 'HassTurnOn',
    description: 'Turns on/opens/presses a device or entity',
    parameters: {
      type: 'object',
      properties: {
        ...TARGET,
        domain: { type: 'array', items: { type: 'string', enum: ['light', 'switch', 'fan', 'cover', 'lock', 'media_player', 'climate'] } },
        device_class: { type: 'array', items: { type: 'string', enum: ['outlet', 'switch', 'tv', 'speaker', 'receiver', 'awning', 'blind', 'curtain', 'door', 'garage', 'gate', 'shade', 'shutter', 'window', 'water', 'gas'] } },
      },
      required: [],
    },
  },
  {
    name: 'HassTurnOff',
    description: 'Turns off/closes a device or entity',
    parameters: { type: 'object', properties: { ...TARGET, domain: { type: 'array', items: { type: 'string' } } }, required: [] },
  },
  {
    name: 'HassLightSet',
    description: 'Sets the brightness percentage or color of a light',
    parameters: {
      type: 'object',
      properties: {
        ...TARGET,
        color: { type: 'string' },
        temperature: { type: 'integer', minimum: 0 },
        brightness: { type: 'integer', minimum: 0, maximum: 100, description: 'The brightness percentage of the light between 0 and 100, where 0 is off and 100 is fully lit' },
      },
      required: [],
    },
  },
  { name: 'GetLiveContext', description: 'Provides real-time information about the CURRENT state, value, or mode of devices', parameters: { type: 'object', properties: {} } },
];

/** An AI Task "generate data" structure, as a user would define it in Home Assistant. */
export const AI_TASK_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    summary: { type: 'string', maxLength: 200 },
    rooms: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, occupied: { type: 'boolean' }, temperature: { type: 'number', minimum: -30, maximum: 50 } }, required: ['name', 'occupied'] }, maxItems: 8 },
    alert: { type: 'string', enum: ['none', 'low', 'high'] },
  },
  required: ['summary', 'rooms', 'alert'],
  additionalProperties: false,
};

export interface ConstrainedRun {
  name: string;
  tokens: number;
  decode_tok_s: number;
  /** Time spent finding the allowed tokens, per token. */
  mask_ms_per_token: number;
  /** mask_ms_per_token over the free decode time per token. */
  mask_share: number;
  /** Constrained decode tok/s over the free figure. */
  vs_free: number;
}

/** A constraint that times the search for allowed tokens of the one it wraps. */
class Timed implements TokenConstraint {
  maskMs = 0;
  constructor(private readonly inner: TokenConstraint) {}
  get active() { return this.inner.active; }
  get complete() { return this.inner.complete; }
  get finished() { return this.inner.finished; }
  allows(bytes: Uint8Array) { return this.inner.allows(bytes); }
  accept(bytes: Uint8Array) { this.inner.accept(bytes); }
  finish() { return this.inner.finish(); }
  allowedTokens(vocab: Parameters<TokenConstraint['allowedTokens']>[0]) {
    const t0 = performance.now();
    const out = this.inner.allowedTokens(vocab);
    this.maskMs += performance.now() - t0;
    return out;
  }
}

/** Free and constrained decoding interleaved, `repeats` rounds of `tokens` each; medians. */
export async function constrainedTiming(path: string, threads = 2, repeats = 3, tokens = 128): Promise<{ free_tok_s: number; runs: ConstrainedRun[] }> {
  const model = await BitnetModel.load(path, { threads, head: 'q8' });
  vocabIndex(model.tokenizer); // built once per model, at the first constrained request: not part of a token
  const session = model.createSession({ contextSize: 1024 });
  const prompt = { messages: [{ role: 'user' as const, content: 'Turn on the kitchen light and set it to 40 percent.' }] };
  const kinds = [['HA tool call (4 tools)', toolCallSchema(HA_TOOLS)], ['AI Task schema', AI_TASK_SCHEMA]] as const;
  const free: number[] = [];
  const constrained = kinds.map(() => ({ tokS: [] as number[], maskMs: [] as number[] }));
  for (let round = 0; round < repeats; round++) {
    const r = await session.generate(prompt, { maxTokens: tokens, ignoreEos: true, seed: round + 1 });
    free.push(r.stats.decodeTokensPerS);
    for (const [k, [, schema]] of kinds.entries()) {
      let generated = 0;
      let decodeMs = 0;
      let maskMs = 0;
      for (let seed = 1; generated < tokens; seed++) {
        // A document may end early (a closed object): another one, until the tokens are counted.
        const constraint = new Timed(new JsonConstraint(schema));
        const c = await session.generate(prompt, { maxTokens: tokens - generated, constraint, seed: round * 1000 + seed });
        JSON.parse(c.text); // always parses, or the benchmark stops here
        generated += c.stats.generatedTokens;
        decodeMs += c.stats.decodeMs;
        maskMs += constraint.maskMs;
      }
      constrained[k]!.tokS.push((generated * 1000) / decodeMs);
      constrained[k]!.maskMs.push(maskMs / generated);
    }
  }
  const freeTokS = median(free);
  const runs = kinds.map(([name], k) => {
    const tokS = median(constrained[k]!.tokS);
    const mask = median(constrained[k]!.maskMs);
    return { name, tokens: tokens * repeats, decode_tok_s: tokS, mask_ms_per_token: mask, mask_share: mask / (1000 / freeTokS), vs_free: tokS / freeTokS };
  });
  return { free_tok_s: freeTokS, runs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, threads] = process.argv.slice(2);
  if (!path) throw new Error('usage: node dist/bench/constrained.js MODEL [threads]');
  console.log(JSON.stringify(await constrainedTiming(path, Number(threads ?? 2)), null, 2));
  process.exit(0);
}
