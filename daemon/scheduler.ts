// One model, one queue: requests from every transport run first come, first served.
// The scheduler owns admission (queue.max), deadlines, MQTT expiry and cancellation; what running a
// request means is the Runner's business (engine-runner.ts).
import { EventEmitter } from 'node:events';
import { errorEvent, type ServerEvent, type WireStopReason } from './protocol.js';
import type { CheckedRequest } from './requests/check.js';

export type EventSink = (event: ServerEvent) => void;

/** Why a running job was stopped early: the stop reason its `done` event reports. */
export type AbortReason = Extract<WireStopReason, 'cancelled' | 'deadline' | 'shutdown'>;

export interface JobOptions {
  /** Transport name, for logs. */
  source: string;
  /** The job must start before this time (ms since epoch) or it is dropped as expired (MQTT expiry). */
  startBy?: number;
}

export interface Job {
  readonly id: string;
  readonly request: CheckedRequest;
  readonly source: string;
  readonly acceptedAt: number;
  readonly signal: AbortSignal;
  state: 'queued' | 'running' | 'finished';
  /** Sends an event to the client; after a `done` or `error` nothing more is sent. */
  emit: EventSink;
  /** Stops the job: a queued job is answered with an error, a running one ends within one token. */
  cancel(reason?: AbortReason): void;
}

/** Runs one job to the end and sends its events; must not throw. Returns the tokens generated. */
export type Runner = (job: Job) => Promise<{ tokens: number; tokensPerS: number; joulesPerToken?: number | null }>;

export interface SchedulerLimits {
  /** Jobs accepted at once, running + waiting. */
  maxJobs: number;
  deadlineMs: number;
}

export interface SchedulerCounters {
  requests: number;
  rejected: number;
  completed: number;
  failed: number;
  cancelled: number;
  tokens: number;
  /** Decode speed of the last finished request. */
  tokensPerS: number;
  /** Energy per generated token of the last finished request (null before one). */
  joulesPerToken: number | null;
}

export class Scheduler extends EventEmitter<{ change: [] }> {
  private readonly waiting: JobImpl[] = [];
  private running: JobImpl | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private nextId = 1;
  readonly counters: SchedulerCounters = {
    requests: 0,
    rejected: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    tokens: 0,
    tokensPerS: 0,
    joulesPerToken: null,
  };

  constructor(
    private readonly runner: Runner,
    public limits: SchedulerLimits,
  ) {
    super();
  }

  get queued(): number {
    return this.waiting.length;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Accepts a checked request (requests/check.ts: every transport's door), or answers it at once with
   * `busy` / `shutting_down`. */
  submit(request: CheckedRequest, sink: EventSink, options: JobOptions): Job | undefined {
    const id = request.id ?? `${options.source}-${this.nextId++}`;
    if (this.closed) {
      sink(errorEvent(id, 'shutting_down', 'bitnetd is shutting down; retry on another board or after the restart'));
      return undefined;
    }
    if (this.waiting.length + (this.running ? 1 : 0) >= this.limits.maxJobs) {
      this.counters.rejected++;
      sink(errorEvent(id, 'busy', `the queue is full (${this.limits.maxJobs} requests); retry later`));
      this.emit('change');
      return undefined;
    }
    const job = new JobImpl(id, request, options.source, sink, (j, reason) => this.cancelJob(j, reason));
    this.counters.requests++;
    const deadlineMs = request.deadline_ms ?? this.limits.deadlineMs;
    if (deadlineMs > 0) job.timers.push(setTimeout(() => job.cancel('deadline'), deadlineMs));
    if (options.startBy !== undefined) {
      job.timers.push(setTimeout(() => this.expire(job), Math.max(0, options.startBy - Date.now())));
    }
    this.waiting.push(job);
    this.emit('change');
    this.pump();
    return job;
  }

  /** Stops accepting; later submissions get `shutting_down`. */
  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels the running job, if any (it still gets its final event); true if there was one. */
  cancelRunning(): boolean {
    if (!this.running) return false;
    this.running.cancel('cancelled');
    return true;
  }

  /** Cancels everything accepted; each job still gets its final event. */
  cancelAll(reason: AbortReason): void {
    for (const job of [...this.waiting]) job.cancel(reason);
    this.running?.cancel(reason);
  }

  private expire(job: JobImpl): void {
    if (job.state !== 'queued') return;
    this.remove(job);
    this.counters.failed++;
    job.finish(errorEvent(job.id, 'expired', 'the request expired (MQTT message expiry) before its turn came'));
  }

  private cancelJob(job: JobImpl, reason: AbortReason): void {
    if (job.state === 'finished') return;
    if (job.state === 'running') {
      job.abort.abort(reason); // the runner sees the signal within one token and sends `done`
      return;
    }
    this.remove(job);
    this.counters.cancelled++;
    const event =
      reason === 'deadline'
        ? errorEvent(job.id, 'deadline', `the deadline passed before the answer could start`)
        : reason === 'shutdown'
          ? errorEvent(job.id, 'shutting_down', 'bitnetd is shutting down; the request was not started')
          : errorEvent(job.id, 'cancelled', 'cancelled before it started');
    job.finish(event);
  }

  private remove(job: JobImpl): void {
    const i = this.waiting.indexOf(job);
    if (i >= 0) this.waiting.splice(i, 1);
    this.emit('change');
    this.checkIdle();
  }

  private pump(): void {
    if (this.running) return;
    const job = this.waiting.shift();
    if (!job) return this.checkIdle();
    this.running = job;
    job.state = 'running';
    this.emit('change');
    void this.runner(job)
      .then(
        (r) => {
          this.counters.tokens += r.tokens;
          if (r.tokens > 0) this.counters.tokensPerS = r.tokensPerS;
          if (r.tokens > 0 && r.joulesPerToken != null) this.counters.joulesPerToken = r.joulesPerToken;
          if (job.signal.aborted) this.counters.cancelled++;
          else this.counters.completed++;
        },
        () => this.counters.failed++,
      )
      .finally(() => {
        job.finish(errorEvent(job.id, 'internal', 'the request ended without an answer; see the log'));
        this.running = undefined;
        this.emit('change');
        this.pump();
      });
  }

  private checkIdle(): void {
    if (this.running || this.waiting.length) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

class JobImpl implements Job {
  readonly acceptedAt = Date.now();
  readonly abort = new AbortController();
  readonly timers: NodeJS.Timeout[] = [];
  state: Job['state'] = 'queued';
  private ended = false;

  constructor(
    readonly id: string,
    readonly request: CheckedRequest,
    readonly source: string,
    private readonly sink: EventSink,
    private readonly onCancel: (job: JobImpl, reason: AbortReason) => void,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  emit = (event: ServerEvent): void => {
    if (this.ended) return;
    if (event.type !== 'token') this.ended = true;
    this.sink(event);
  };

  cancel(reason: AbortReason = 'cancelled'): void {
    this.onCancel(this, reason);
  }

  /** Ends the job, sending `event` unless a final event was already sent. */
  finish(event?: ServerEvent): void {
    if (event) this.emit(event);
    this.state = 'finished';
    for (const t of this.timers) clearTimeout(t);
  }
}
