import test from 'ava';
import { BitnetModel } from '../../../daemon/engine/index.js';
import { Detokenizer } from '../../../daemon/engine/tokenizer/detokenizer.js';
import { referenceModelPath } from '../../helpers/reference.js';

const modelPromise = BitnetModel.load(referenceModelPath());

test('streaming never emits a broken UTF-8 sequence', async (t) => {
  const tok = (await modelPromise).tokenizer;
  const text = '你好 🎉 café 👨‍👩‍👧';
  const ids = tok.encode(text, false);
  // Replace every token by its single-byte tokens, so characters arrive one byte at a time.
  const byteToken = (b: number): number => {
    for (let id = 0; id < tok.vocabSize; id++) {
      const bytes = tok.bytesOf(id);
      if (bytes.length === 1 && bytes[0] === b) return id;
    }
    throw new Error(`no token for byte ${b}`);
  };
  const perByte = ids.flatMap((id) => [...tok.bytesOf(id)].map(byteToken));
  t.true(perByte.length > ids.length);
  const detok = new Detokenizer(tok);
  const chunks = perByte.map((id) => detok.push(id));
  chunks.push(detok.flush());
  for (const c of chunks) t.false(c.includes('\uFFFD'), JSON.stringify(c));
  t.is(chunks.join(''), text);
  t.true(chunks.filter((c) => c === '').length > 0, 'incomplete characters were held back');
});

test('an unfinished sequence at the end becomes one replacement character', async (t) => {
  const tok = (await modelPromise).tokenizer;
  const detok = new Detokenizer(tok);
  const first = [...tok.bytesOf(tok.encode('你', false)[0]!)][0]!;
  let id = -1;
  for (let i = 0; i < tok.vocabSize && id < 0; i++) {
    const b = tok.bytesOf(i);
    if (b.length === 1 && b[0] === first) id = i;
  }
  t.is(detok.push(id), '');
  t.is(detok.flush(), '\uFFFD');
});
