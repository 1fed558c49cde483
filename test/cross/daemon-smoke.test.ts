// The whole daemon on the reference model, once: start, log the engine and kernels it chose, answer a
// prompt over the Unix socket, stop cleanly. npm run test:cross runs it under qemu for each Raspberry
// Pi CPU model, with BITNETD_EXPECT_KERNEL naming the kernels that CPU must get.
import test from 'ava';
import type { DoneEvent } from '../../daemon/protocol.js';
import { loadAddon } from '../../daemon/engine/index.js';
import { Daemon } from '../helpers/daemon.js';
import { referenceModelPath } from '../helpers/reference.js';
import { SocketClient } from '../helpers/socket-client.js';

test('the daemon starts with the expected kernels, answers over the socket and stops with status 0', async (t) => {
  // Under qemu, starting Node, probing the addon and building the int8 head take most of a minute.
  const d = await Daemon.start({ model: referenceModelPath(), config: { model: { threads: 2 } }, readyTimeoutMs: 300_000 });
  try {
    const engine = d.logs.find((l) => l.message === 'engine addon')!;
    const loaded = d.logs.find((l) => l.message === 'model loaded')!;
    t.log(`${process.arch}: ${engine['source']} ${engine['path']}, kernel ${loaded['kernel']}, head ${loaded['head']}`);
    t.is(loaded['kernel'], process.env['BITNETD_EXPECT_KERNEL'] ?? loadAddon().kernels[1]);

    const c = await SocketClient.connect(d.socketPath);
    c.send({ id: 'smoke', prompt: 'Turn on the kitchen light', max_tokens: 5, seed: 3 });
    const done = (await c.answer('smoke', 120_000)) as DoneEvent;
    c.close();
    t.is(done.type, 'done', JSON.stringify(done));
    t.is(done.generated_tokens, 5);
    t.true(done.text.length > 0);
  } finally {
    t.is(await d.stop(), 0, d.stderr.slice(-2000));
  }
});
