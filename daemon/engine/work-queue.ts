// Runs async jobs one at a time, in the order they were queued. One per model: its thread pool and
// weights serve one evaluation at a time, while sessions interleave between tokens.
export class WorkQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
