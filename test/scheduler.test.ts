// The scheduler's rules, with a runner that produces a fixed number of tokens on a timer.
import test from 'ava';
import type { ServerEvent } from '../daemon/protocol.js';
import { checkRequest, type CheckedRequest } from '../daemon/requests/check.js';
import { Scheduler, type Job, type Runner } from '../daemon/scheduler.js';

/** A request through the door every transport uses. */
function checked(request: unknown): CheckedRequest {
  const r = checkRequest(request);
  if (!r.ok) throw new Error(r.message);
  return r.request;
}

/** Emits one token every `ms` until `tokens` or the abort signal, then `done`. */
function tickingRunner(tokens: number, ms: number, started: string[] = []): Runner {
  return async (job: Job) => {
    started.push(job.id);
    let n = 0;
    while (n < tokens && !job.signal.aborted) {
      await new Promise((r) => setTimeout(r, ms));
      job.emit({ id: job.id, type: 'token', seq: n, text: 'x' });
      n++;
    }
    const reason = job.signal.aborted ? (job.signal.reason as 'cancelled') : 'length';
    job.emit({ id: job.id, type: 'done', text: 'x'.repeat(n), seq: n, prompt_tokens: 1, cached_tokens: 0, generated_tokens: n, prefill_ms: 0, decode_ms: 0, prefill_tokens_per_s: 0, decode_tokens_per_s: 10, stop_reason: reason });
    return { tokens: n, tokensPerS: 10 };
  };
}

function collector() {
  const events: ServerEvent[] = [];
  const final = (id: string) => events.find((e) => e.id === id && e.type !== 'token');
  return { events, sink: (e: ServerEvent) => events.push(e), final };
}

test('first come, first served, one at a time; queue.max counts running plus waiting', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(tickingRunner(2, 5, started), { maxJobs: 3, deadlineMs: 0 });
  const c = collector();
  for (const id of ['a', 'b', 'c', 'd']) s.submit(checked({ id, prompt: 'p' }), c.sink, { source: 'test' });
  t.is(c.final('d')?.type, 'error');
  t.is((c.final('d') as { code: string }).code, 'busy', 'the fourth is refused at once');
  await s.idle();
  t.deepEqual(started, ['a', 'b', 'c']);
  t.deepEqual(s.counters, { requests: 3, rejected: 1, completed: 3, failed: 0, cancelled: 0, tokens: 6, tokensPerS: 10, joulesPerToken: null });
});

test('a deadline stops a running job and fails a waiting one', async (t) => {
  const s = new Scheduler(tickingRunner(1000, 5), { maxJobs: 5, deadlineMs: 0 });
  const c = collector();
  s.submit(checked({ id: 'long', prompt: 'p', deadline_ms: 60 }), c.sink, { source: 'test' });
  s.submit(checked({ id: 'late', prompt: 'p', deadline_ms: 30 }), c.sink, { source: 'test' });
  await s.idle();
  t.like(c.final('long'), { type: 'done', stop_reason: 'deadline' });
  t.like(c.final('late'), { type: 'error', code: 'deadline' });
});

test('an expired job is dropped before it starts', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(tickingRunner(10, 10, started), { maxJobs: 5, deadlineMs: 0 });
  const c = collector();
  s.submit(checked({ id: 'busy', prompt: 'p' }), c.sink, { source: 'test' });
  s.submit(checked({ id: 'stale', prompt: 'p' }), c.sink, { source: 'test', startBy: Date.now() + 20 });
  await s.idle();
  t.like(c.final('stale'), { type: 'error', code: 'expired' });
  t.deepEqual(started, ['busy']);
});

test('cancel, close and cancelAll: every accepted job gets exactly one final event', async (t) => {
  const s = new Scheduler(tickingRunner(1000, 5), { maxJobs: 5, deadlineMs: 0 });
  const c = collector();
  const a = s.submit(checked({ id: 'a', prompt: 'p' }), c.sink, { source: 'test' })!;
  s.submit(checked({ id: 'b', prompt: 'p' }), c.sink, { source: 'test' });
  s.submit(checked({ id: 'c', prompt: 'p' }), c.sink, { source: 'test' });
  await new Promise((r) => setTimeout(r, 20));
  s.close();
  s.submit(checked({ id: 'd', prompt: 'p' }), c.sink, { source: 'test' });
  t.like(c.final('d'), { type: 'error', code: 'shutting_down' });
  a.cancel(); // twice is harmless
  a.cancel();
  s.cancelAll('shutdown');
  await s.idle();
  t.like(c.final('a'), { type: 'done', stop_reason: 'cancelled' });
  t.like(c.final('b'), { type: 'error', code: 'shutting_down' });
  t.like(c.final('c'), { type: 'error', code: 'shutting_down' });
  for (const id of ['a', 'b', 'c', 'd']) t.is(c.events.filter((e) => e.id === id && e.type !== 'token').length, 1, id);
});

test('a runner that forgets to answer still produces an error event', async (t) => {
  const s = new Scheduler(async () => ({ tokens: 0, tokensPerS: 0 }), { maxJobs: 1, deadlineMs: 0 });
  const c = collector();
  s.submit(checked({ id: 'x', prompt: 'p' }), c.sink, { source: 'test' });
  await s.idle();
  t.like(c.final('x'), { type: 'error', code: 'internal' });
});
