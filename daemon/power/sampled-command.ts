// A command's parsed output, refreshed in the background at most every minIntervalMs, so that a reading
// never waits for a process: vcgencmd is such a command, and each run costs a Pi tens of milliseconds.
import type { PowerEnv } from './power-env.js';

export class SampledCommand<T> {
  private latest: T | null = null;
  private startedAt = -Infinity;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly env: PowerEnv,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly parse: (stdout: string) => T | null,
    private readonly minIntervalMs: number,
  ) {}

  /** The last sample (null before the first one, or when the command failed); starts a new one when due. */
  read(): T | null {
    const now = this.env.now();
    if (!this.inFlight && now - this.startedAt >= this.minIntervalMs) {
      this.startedAt = now;
      this.inFlight = this.env
        .run(this.cmd, this.args)
        .then(
          (stdout) => void (this.latest = this.parse(stdout)),
          () => void (this.latest = null), // gone, or not allowed (group video): no reading, not a crash
        )
        .finally(() => (this.inFlight = undefined));
    }
    return this.latest;
  }

  /** Resolves once the sample in flight, if any, has landed. */
  async settled(): Promise<void> {
    await this.inFlight;
  }
}
