// Joules from power readings. A reading stands for the time since the one before it (a counter's rate,
// or a sensor's value held in between), and between readings the last one is carried forward, so a
// request's energy is the meter's difference from its start to its end whatever their timing.
export class EnergyMeter {
  private joules = 0;
  private watts: number | null = null;
  private at: number;

  constructor(private readonly now: () => number) {
    this.at = now();
  }

  /** A new reading in watts; null (no reading) leaves the interval uncounted. */
  add(watts: number | null): void {
    const t = this.now();
    if (watts !== null) this.joules += (watts * (t - this.at)) / 1000;
    this.watts = watts;
    this.at = t;
  }

  /** Joules so far, the last reading carried forward to now. */
  total(): number {
    return this.joules + ((this.watts ?? 0) * (this.now() - this.at)) / 1000;
  }
}
