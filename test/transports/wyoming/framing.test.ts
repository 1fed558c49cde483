// Wyoming framing against the byte layouts of the protocol's README: data after the header line
// (current peers), data inline in it (older ones), payloads, events split anywhere, and broken streams.
import test from 'ava';
import { encodeEvent, EventReader, FramingError, isInvalid, WYOMING_VERSION } from '../../../daemon/transports/wyoming/framing.js';

const limits = { maxHeaderBytes: 4096, maxBodyBytes: 65536 };

test('an event is written as a header line with version and data_length, then exactly that many bytes of data', (t) => {
  const bytes = encodeEvent({ type: 'handled', data: { text: 'Grüße', context: { conversation_id: 'x' } } });
  const newline = bytes.indexOf(0x0a);
  const header = JSON.parse(bytes.subarray(0, newline).toString()) as Record<string, unknown>;
  t.deepEqual(header, { type: 'handled', version: WYOMING_VERSION, data_length: bytes.length - newline - 1 });
  t.deepEqual(JSON.parse(bytes.subarray(newline + 1).toString()), { text: 'Grüße', context: { conversation_id: 'x' } });
  t.is(encodeEvent({ type: 'handled-stop', data: {} }).toString(), `{"type":"handled-stop","version":"${WYOMING_VERSION}"}\n`, 'no data: the line alone');
});

test('data after the line, data inline, and both merged (after-line keys win) are read', (t) => {
  const reader = new EventReader(limits);
  const data = '{"text":"turn on the light","language":"en"}';
  const after = '{"text":"after"}';
  const stream =
    `{"type":"transcript","version":"1.7.2","data_length":${Buffer.byteLength(data)}}\n${data}` +
    '{"type":"describe"}\n' +
    '{"type":"transcript","data":{"text":"old style"}}\n' +
    `{"type":"transcript","data":{"text":"inline","context":{"a":1}},"data_length":${after.length}}\n${after}`;
  const events = reader.feed(Buffer.from(stream));
  t.deepEqual(events, [
    { type: 'transcript', data: { text: 'turn on the light', language: 'en' } },
    { type: 'describe', data: {} },
    { type: 'transcript', data: { text: 'old style' } },
    { type: 'transcript', data: { text: 'after', context: { a: 1 } } },
  ]);
});

test('events split at every byte boundary come out whole, payload bytes included', (t) => {
  const payload = Buffer.from([0, 1, 2, 10, 10, 255]);
  const one = encodeEvent({ type: 'audio-chunk', data: { rate: 16000, width: 2, channels: 1 }, payload });
  const two = encodeEvent({ type: 'transcript', data: { text: 'ünïcode ✓' } });
  const all = Buffer.concat([one, two]);
  for (let cut = 1; cut < all.length; cut++) {
    const reader = new EventReader(limits);
    const events = [...reader.feed(all.subarray(0, cut)), ...reader.feed(all.subarray(cut))];
    t.is(events.length, 2, `cut at ${cut}`);
    t.deepEqual(events[0], { type: 'audio-chunk', data: { rate: 16000, width: 2, channels: 1 }, payload });
    t.deepEqual(events[1], { type: 'transcript', data: { text: 'ünïcode ✓' } });
  }
  const byteByByte = new EventReader(limits);
  const events = [...all].flatMap((b) => byteByByte.feed(Buffer.from([b])));
  t.is(events.length, 2);
});

test('data that is not a JSON object is reported and the stream goes on; a broken header stops it', (t) => {
  const reader = new EventReader(limits);
  const events = reader.feed(Buffer.from('{"type":"transcript","data_length":5}\n[1,2]{"type":"describe"}\n'));
  t.is(events.length, 2);
  t.true(isInvalid(events[0]!));
  t.regex((events[0] as { invalid: string }).invalid, /not a JSON object/);
  t.deepEqual(events[1], { type: 'describe', data: {} });

  const cases: [string, RegExp][] = [
    ['hello\n', /not JSON/],
    ['{"data":{}}\n', /no "type"/],
    ['{"type":"x","data_length":-1}\n', /not a byte count/],
    ['{"type":"x","payload_length":1.5}\n', /not a byte count/],
    ['{"type":"x","data":[1]}\n', /"data" is not an object/],
    ['{"type":"x","payload_length":100000}\n', /100000 bytes \(the limit is 65536\)/],
  ];
  for (const [input, message] of cases) {
    const e = t.throws(() => new EventReader(limits).feed(Buffer.from(input)), { instanceOf: FramingError });
    t.regex(e.message, message, input);
  }
  const long = new EventReader(limits);
  t.deepEqual(long.feed(Buffer.alloc(4096, 0x20)), [], 'a line up to the limit may still end');
  t.throws(() => long.feed(Buffer.from(' ')), { instanceOf: FramingError, message: /header line over 4096 bytes/ });
});
