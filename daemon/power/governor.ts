// The power governor's decision: how many threads compute, and what share of the time they may (a
// duty cycle below 1 pauses between evaluations, for when even one thread is over the budget). Pure and
// clocked by ticks, so that it is tested against a simulated plant on a fake clock.
//
// The settings form one ladder, lowest power first: one thread at a duty cycle of 0.1, 0.15, … 1, then
// 2, 3, … threads. Over the budget, too hot, or with the firmware throttling, it steps down (straight to
// the rung its power estimate says fits); with headroom for the next rung, it steps up. After a change it
// waits a few ticks for readings of the new rung. A rung that turned out over the budget is not tried
// again for a while, longer each time, so the setting settles instead of oscillating around the budget.

export interface GovernorLimits {
  /** The moving average of power stays at or below this; null: no budget. */
  budgetWatts: number | null;
  /** Back off at or above this temperature; null: only the firmware's throttling counts. */
  maxTempC: number | null;
}

export interface GovernorTick {
  /** This tick's power reading, or null when there is none. */
  watts: number | null;
  tempC: number | null;
  /** The firmware says it throttles, caps the frequency or the supply sags. */
  throttling: boolean;
  /** The engine was computing during this tick (idle readings say nothing about compute power). */
  busy: boolean;
}

export interface GovernorSetting {
  threads: number;
  /** Share of the time the engine may compute, 0.1 to 1. */
  duty: number;
}

export const DUTY_STEPS: readonly number[] = [0.1, 0.15, 0.25, 0.35, 0.5, 0.7, 1];
const EWMA = 0.4; // weight of a new reading in the moving average
const SETTLE_TICKS = 3; // after a change: the first reading still mixes in the old rung, then two more
const HEADROOM = 0.05; // step up only when the next rung is predicted at most budget × (1 − this)
const TEMP_MARGIN_C = 3; // step up only this far below max_temp_c
const HOLD_TICKS = 40; // a rung found over the budget is not retried for this long, doubling up to 8×

const load = (s: GovernorSetting) => s.threads * s.duty;

export class PowerGovernor {
  private rungs: GovernorSetting[] = [];
  private level = 0;
  private tick = 0;
  private settle = 0;
  private discard = 0;
  /** Moving average of busy readings at the current rung. */
  private avgWatts: number | null = null;
  /** Moving average of idle readings. */
  private idleWatts: number | null = null;
  /** Watts per unit of load (threads × duty) above idle, learned while busy. */
  private unitWatts: number | null = null;
  private blockedFrom = Infinity;
  private blockedUntil = 0;
  private hold = HOLD_TICKS;

  constructor(
    maxThreads: number,
    private limits: GovernorLimits,
  ) {
    this.setMaxThreads(maxThreads);
    this.level = this.rungs.length - 1; // the first readings over the budget bring it down
  }

  get setting(): GovernorSetting {
    return this.rungs[this.level]!;
  }

  /** The moving average of power while computing (null before readings of this rung). */
  get watts(): number | null {
    return this.avgWatts;
  }

  /** True when even the lowest rung is over the budget (the budget is below idle power, say). */
  get atFloor(): boolean {
    return this.level === 0 && this.limits.budgetWatts !== null && this.avgWatts !== null && this.avgWatts > this.limits.budgetWatts;
  }

  /** New limits: what was learned about rungs over the old budget no longer holds. */
  setLimits(limits: GovernorLimits): void {
    this.limits = limits;
    this.blockedFrom = Infinity;
    this.hold = HOLD_TICKS;
    this.settle = 0;
  }

  /** The configured thread count changed (a reload); the current load is kept as far as it fits. */
  setMaxThreads(maxThreads: number): void {
    const current = this.rungs.length ? this.setting : undefined;
    this.rungs = [...DUTY_STEPS.map((duty) => ({ threads: 1, duty })), ...range(2, maxThreads).map((threads) => ({ threads, duty: 1 }))];
    if (current) {
      const same = this.rungs.findIndex((r) => load(r) >= load(current));
      this.level = same < 0 ? this.rungs.length - 1 : same;
    }
    this.blockedFrom = Infinity;
  }

  /** One tick of readings; returns the setting to apply now. */
  update(t: GovernorTick): GovernorSetting {
    this.tick++;
    this.observe(t);
    if (this.settle > 0) {
      this.settle--;
      return this.setting;
    }
    const { budgetWatts: budget, maxTempC } = this.limits;
    const hot = t.throttling || (maxTempC !== null && t.tempC !== null && t.tempC >= maxTempC);
    const over = budget !== null && t.busy && this.avgWatts !== null && this.avgWatts > budget;
    if (hot || over) {
      if (this.level > 0) {
        const fits = over ? this.highestFitting(budget!) : undefined;
        this.block(this.level);
        this.move(Math.min(this.level - 1, fits ?? this.level - 1));
      }
      return this.setting;
    }
    const next = this.level + 1;
    if (next >= this.rungs.length || (next >= this.blockedFrom && this.tick < this.blockedUntil)) return this.setting;
    if (maxTempC !== null && t.tempC !== null && t.tempC >= maxTempC - TEMP_MARGIN_C) return this.setting;
    if (budget === null) {
      this.move(next);
    } else if (t.busy && this.avgWatts !== null) {
      const predicted = this.predict(this.rungs[next]!);
      if (predicted !== null && predicted <= budget * (1 - HEADROOM)) this.move(next);
    }
    return this.setting;
  }

  private observe(t: GovernorTick): void {
    if (t.watts === null) return;
    if (!t.busy) {
      this.idleWatts = this.idleWatts === null ? t.watts : EWMA * t.watts + (1 - EWMA) * this.idleWatts;
      return;
    }
    if (this.discard > 0) {
      this.discard--;
      return;
    }
    this.avgWatts = this.avgWatts === null ? t.watts : EWMA * t.watts + (1 - EWMA) * this.avgWatts;
    if (this.idleWatts !== null && this.avgWatts > this.idleWatts) {
      const unit = (this.avgWatts - this.idleWatts) / load(this.setting);
      this.unitWatts = this.unitWatts === null ? unit : (unit + this.unitWatts) / 2;
    }
  }

  /** Power at a rung: idle plus learned watts per unit of load; else scaled from this rung's average. */
  private predict(rung: GovernorSetting): number | null {
    if (this.idleWatts !== null && this.unitWatts !== null) return this.idleWatts + this.unitWatts * load(rung);
    if (this.avgWatts === null) return null;
    return this.avgWatts * (load(rung) / load(this.setting));
  }

  /** The highest rung predicted to fit the budget (0 when none does). */
  private highestFitting(budget: number): number {
    for (let l = this.level - 1; l > 0; l--) {
      const p = this.predict(this.rungs[l]!);
      if (p !== null && p <= budget) return l;
    }
    return 0;
  }

  /** Keeps the governor off this rung and those above it for a while; longer when a retry failed. */
  private block(level: number): void {
    this.hold = level === this.blockedFrom ? Math.min(this.hold * 2, HOLD_TICKS * 8) : HOLD_TICKS;
    this.blockedFrom = level;
    this.blockedUntil = this.tick + this.hold;
  }

  private move(level: number): void {
    if (level === this.level) return;
    this.level = level;
    this.settle = SETTLE_TICKS;
    this.discard = 1;
    this.avgWatts = null;
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
