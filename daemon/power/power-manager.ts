// The power governor at run time: reads the power source and the thermal guard every tick, integrates
// the energy, lets the governor choose threads and duty cycle, applies them to the engine, and holds
// the limits (the configuration's, or those set at run time, which are saved and outlive a restart).
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { DaemonState } from '../protocol.js';
import { EnergyMeter } from './energy.js';
import { PowerGovernor, type GovernorLimits, type GovernorSetting } from './governor.js';
import type { PowerEnv } from './power-env.js';
import type { PowerSource } from './power-source.js';
import { savePowerOverrides, type PowerOverrides } from './power-state.js';
import { isThrottling, type ThermalGuard, type ThermalReading } from './thermal.js';

export interface PowerManagerOptions {
  env: PowerEnv;
  source: PowerSource;
  thermal: ThermalGuard;
  /** The configuration's limits (0 turns a limit off there). */
  configured: { budgetWatts: number; maxTempC: number };
  /** Limits set at run time and saved, which outrank the configured ones. */
  overrides: PowerOverrides;
  stateFile: string;
  intervalMs: number;
  maxThreads: number;
  apply: (setting: GovernorSetting) => void;
  log: Logger;
}

/** The power part of the daemon's state. */
export type PowerReport = Pick<
  DaemonState,
  'power_w' | 'power_source' | 'power_measured' | 'budget_watts' | 'max_temp_c' | 'temperature_c' | 'throttling' | 'duty_cycle' | 'energy_j'
>;

/** A limit from the wire or the configuration: null or 0 means none. */
const limit = (v: number | null | undefined) => (v === null || v === undefined || v <= 0 ? null : v);
const round = (x: number | null, digits = 2) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

// While busy the state is republished this often, so power and temperature sensors stay current.
const REPORT_EVERY_MS = 10_000;

export class PowerManager extends EventEmitter<{ change: [] }> {
  readonly energy: EnergyMeter;
  private readonly governor: PowerGovernor;
  private overrides: PowerOverrides;
  private timer: NodeJS.Timeout | undefined;
  private busyNow = false;
  private busySinceTick = false;
  private lastWatts: number | null = null;
  private lastThermal: ThermalReading = { tempC: null, throttle: null };
  private lastReportAt = 0;
  private warnedFloor = false;

  constructor(private readonly o: PowerManagerOptions) {
    super();
    this.overrides = { ...o.overrides };
    this.energy = new EnergyMeter(o.env.now);
    this.governor = new PowerGovernor(this.maxThreads(), this.limits());
    o.apply(this.governor.setting);
  }

  /** The threads the governor may use: model.threads, under a cap set at run time if there is one. */
  maxThreads(): number {
    const cap = this.overrides.max_threads;
    return cap ? Math.max(1, Math.min(cap, this.o.maxThreads)) : this.o.maxThreads;
  }

  /** The configured threads (model.threads): the most a cap can allow. */
  threadLimit(): number {
    return this.o.maxThreads;
  }

  get source(): PowerSource {
    return this.o.source;
  }

  /** The effective limits: a run-time value where one was set, else the configuration's. */
  limits(): GovernorLimits {
    const pick = (key: keyof PowerOverrides, configured: number) => limit(key in this.overrides ? this.overrides[key] : configured);
    return { budgetWatts: pick('budget_watts', this.o.configured.budgetWatts), maxTempC: pick('max_temp_c', this.o.configured.maxTempC) };
  }

  start(): void {
    this.o.log.info('power: governor started', {
      source: this.o.source.kind,
      measured: this.o.source.measured,
      reads: this.o.source.describe,
      thermal: this.o.thermal.describe,
      budget_watts: this.limits().budgetWatts,
      max_temp_c: this.limits().maxTempC,
      ...(Object.keys(this.overrides).length ? { saved_in: this.o.stateFile } : {}),
    });
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The engine starts or stops computing (the scheduler's changes). */
  setBusy(busy: boolean): void {
    this.busyNow = busy;
    if (busy) this.busySinceTick = true;
  }

  /** A new configured thread count (a reload). */
  setMaxThreads(n: number): void {
    this.o.maxThreads = n;
    this.governor.setMaxThreads(this.maxThreads());
    this.o.apply(this.governor.setting);
  }

  /** New configured limits (a reload); limits set at run time still win. */
  setConfigured(configured: { budgetWatts: number; maxTempC: number }): void {
    this.o.configured = configured;
    this.governor.setLimits(this.limits());
    this.emit('change');
  }

  /** Limits set at run time: saved, so they outlive a restart. Throws when they cannot be saved. */
  setLimits(update: PowerOverrides): GovernorLimits {
    const next = { ...this.overrides, ...update };
    savePowerOverrides(this.o.stateFile, next);
    this.overrides = next;
    const limits = this.limits();
    this.governor.setLimits(limits);
    if ('max_threads' in update) {
      this.governor.setMaxThreads(this.maxThreads());
      this.o.apply(this.governor.setting);
    }
    this.warnedFloor = false;
    this.o.log.info('power: limits set', { budget_watts: limits.budgetWatts, max_temp_c: limits.maxTempC, max_threads: this.maxThreads(), saved_in: this.o.stateFile });
    this.emit('change');
    return limits;
  }

  report(): PowerReport {
    const limits = this.limits();
    return {
      power_w: round(this.lastWatts),
      power_source: this.o.source.kind,
      power_measured: this.o.source.measured,
      budget_watts: limits.budgetWatts,
      max_temp_c: limits.maxTempC,
      temperature_c: round(this.lastThermal.tempC, 1),
      throttling: isThrottling(this.lastThermal.throttle),
      duty_cycle: this.governor.setting.duty,
      energy_j: round(this.energy.total(), 1)!,
    };
  }

  /** One governor tick (the timer's; tests may call it directly). */
  tick(): void {
    const watts = this.o.source.read();
    const thermal = this.o.thermal.read();
    this.energy.add(watts);
    this.lastWatts = watts;
    this.lastThermal = thermal;
    const busy = this.busyNow || this.busySinceTick;
    this.busySinceTick = false;
    const before = this.governor.setting;
    const after = this.governor.update({ watts, tempC: thermal.tempC, throttling: isThrottling(thermal.throttle), busy });
    this.o.log.debug('power: tick', { watts: round(watts), busy, threads: after.threads, duty: after.duty });
    if (after !== before) {
      this.o.apply(after);
      this.o.log.info('power: new setting', { threads: after.threads, duty_cycle: after.duty, watts: round(this.governor.watts ?? watts), temperature_c: thermal.tempC });
    }
    if (this.governor.atFloor && !this.warnedFloor) {
      this.warnedFloor = true;
      this.o.log.warn('power: even one thread at the lowest duty cycle is over the budget (is the budget below idle power?)', {
        budget_watts: this.limits().budgetWatts,
        watts: round(this.governor.watts),
      });
    }
    const now = this.o.env.now();
    if (after !== before || (busy && now - this.lastReportAt >= REPORT_EVERY_MS)) {
      this.lastReportAt = now;
      this.emit('change');
    }
  }
}
