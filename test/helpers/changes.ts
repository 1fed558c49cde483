// Waiting for something a stream of events will eventually show: the helpers that record log lines,
// socket events and MQTT messages call changed() on each arrival; waitFor re-checks then.
export class Changes {
  private listeners = new Set<() => void>();

  changed(): void {
    for (const l of [...this.listeners]) l();
  }

  /**
   * Resolves with check()'s first defined value. Rejects when `gone()` returns a reason (the source
   * ended first) or after timeoutMs, with `context()` in the message.
   */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, context: () => string, gone: () => string | undefined = () => undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(run);
        f();
      };
      const run = () => {
        const value = check();
        if (value !== undefined) return finish(() => resolve(value));
        const why = gone();
        if (why !== undefined) finish(() => reject(new Error(`${why}:\n${context()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms:\n${context()}`))), timeoutMs);
      this.listeners.add(run);
      run();
    });
  }
}
