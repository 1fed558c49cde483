// The tokens constrained decoding may pick, found from the recognizer's state (trie walk, string
// classes, suffix trie), must be exactly those the token-by-token check allows: compared over the whole
// Llama 3 vocabulary of the reference model, at states reached by random walks through each schema.
import test from 'ava';
import { BitnetModel, JsonConstraint, ToolCallConstraint, type JsonSchema } from '../../../daemon/engine/index.js';
import { vocabIndex } from '../../../daemon/engine/constraints/vocab-index.js';
import type { TokenConstraint } from '../../../daemon/engine/constraints/token-constraint.js';
import { Random } from '../../../daemon/synth/random.js';
import { referenceModelPath } from '../../helpers/reference.js';

const modelPromise = BitnetModel.load(referenceModelPath(), { threads: 1 });

const SCHEMAS: Record<string, JsonSchema | 'json'> = {
  'HA light': {
    type: 'object',
    properties: {
      name: { type: 'string', enum: ['Kitchen Light', 'Küche', 'Salle à manger'] },
      brightness: { type: 'integer', minimum: 0, maximum: 100 },
      temperature: { type: 'number', exclusiveMinimum: -2.5, maximum: 40 },
      label: { type: 'string', maxLength: 6 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    },
    required: ['name'],
  },
  'json mode': 'json',
  'open object': { type: 'object', additionalProperties: { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'string', maxLength: 8 }, { type: 'null' }] } },
};

/** What allows() takes, one token at a time: the reference. */
function tokenByToken(c: TokenConstraint, vocab: { vocabSize: number; bytesOf(id: number): Uint8Array }): number[] {
  const out: number[] = [];
  for (let id = 0; id < vocab.vocabSize; id++) if (c.allows(vocab.bytesOf(id))) out.push(id);
  return out;
}

for (const [name, schema] of Object.entries(SCHEMAS)) {
  test(`${name}: the tokens found from the state are those allowed one by one, at every state of random walks`, async (t) => {
    const { tokenizer } = await modelPromise;
    const vocab = vocabIndex(tokenizer);
    const rng = new Random(11);
    let compared = 0;
    for (let walk = 0; walk < 3; walk++) {
      const c = new JsonConstraint(schema);
      let text = '';
      for (let step = 0; step < 14 && !c.finished; step++) {
        const found = c.allowedTokens(vocab);
        if (step % 3 === 0) {
          t.deepEqual([...found].sort((a, b) => a - b), tokenByToken(c, tokenizer), `after ${JSON.stringify(text)}`);
          compared++;
        }
        if (!found.length) break;
        // Mostly short tokens that close nothing, so that the walk gets into keys, values, strings and numbers.
        const short = found.filter((id) => tokenizer.bytesOf(id).length <= 2 && !tokenizer.bytesOf(id).includes(0x7d));
        const pool = short.length && rng.below(4) ? short : found;
        const id = pool[rng.below(pool.length)]!;
        c.accept(tokenizer.bytesOf(id));
        text += Buffer.from(tokenizer.bytesOf(id)).toString();
      }
    }
    t.true(compared >= 9);
  });
}

test('a tool call not yet begun: everything but a "{" that cannot start a call', async (t) => {
  const { tokenizer } = await modelPromise;
  const c = new ToolCallConstraint([{ name: 'HassTurnOn', parameters: { type: 'object', properties: { name: { type: 'string' } } } }]);
  const found = c.allowedTokens(vocabIndex(tokenizer));
  t.deepEqual([...found].sort((a, b) => a - b), tokenByToken(c, tokenizer));
  t.true(found.length > 120_000, 'plain text is free');
});
