// Temperature and the firmware's own throttling, read on every governor tick so that bitnetd backs off
// before the firmware does: the hottest thermal zone (/sys/class/thermal/thermal_zoneN/temp, in
// millidegrees C) and, on a Raspberry Pi, the "now" bits of `vcgencmd get_throttled` (sampled in the
// background at most once a second) or, without vcgencmd, the rpi_volt hwmon's under-voltage alarm.
import { findHwmon } from './hwmon-ina.js';
import { listDir, readNumber, type PowerEnv } from './power-env.js';
import { SampledCommand } from './sampled-command.js';

/** get_throttled's bits 0–3: what holds right now. */
export interface ThrottleState {
  underVoltage: boolean;
  frequencyCapped: boolean;
  throttled: boolean;
  softTempLimit: boolean;
}

export interface ThermalReading {
  /** The hottest zone, °C; null without thermal zones (as on this VM). */
  tempC: number | null;
  throttle: ThrottleState | null;
}

/** `throttled=0x50005` → its current-state bits; null when the text is not that. */
export function parseThrottled(text: string): ThrottleState | null {
  const m = /throttled=0x([0-9a-fA-F]+)/.exec(text);
  if (!m) return null;
  const bits = parseInt(m[1]!, 16);
  return { underVoltage: (bits & 1) !== 0, frequencyCapped: (bits & 2) !== 0, throttled: (bits & 4) !== 0, softTempLimit: (bits & 8) !== 0 };
}

/** True when any current-state bit is set: the firmware is already cutting back, or the supply sags. */
export function isThrottling(state: ThrottleState | null): boolean {
  return state !== null && (state.underVoltage || state.frequencyCapped || state.throttled || state.softTempLimit);
}

const THERMAL = ['class', 'thermal'];

export class ThermalGuard {
  readonly describe: string;

  private constructor(
    private readonly env: PowerEnv,
    private readonly zones: string[],
    private readonly throttled: (() => ThrottleState | null) | undefined,
    throttleSource: string,
  ) {
    this.describe = [zones.length ? zones.join(', ') : 'no thermal zone', throttleSource].join('; ');
  }

  static async create(env: PowerEnv): Promise<ThermalGuard> {
    const zones = listDir(env.sysRoot, ...THERMAL)
      .filter((z) => /^thermal_zone\d+$/.test(z) && readNumber(env.sysRoot, ...THERMAL, z, 'temp') !== undefined)
      .sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
    const vcgencmd = new SampledCommand(env, 'vcgencmd', ['get_throttled'], parseThrottled, 1000);
    vcgencmd.read();
    await vcgencmd.settled();
    if (vcgencmd.read() !== null) return new ThermalGuard(env, zones, () => vcgencmd.read(), 'vcgencmd get_throttled');
    const volt = findHwmon(env, (name) => name === 'rpi_volt')[0];
    if (volt) {
      const alarm = () => {
        const v = readNumber(env.sysRoot, 'class', 'hwmon', volt.dir, 'in0_lcrit_alarm');
        return v === undefined ? null : { underVoltage: v !== 0, frequencyCapped: false, throttled: false, softTempLimit: false };
      };
      return new ThermalGuard(env, zones, alarm, `${volt.dir} rpi_volt under-voltage alarm`);
    }
    return new ThermalGuard(env, zones, undefined, 'no throttling report');
  }

  read(): ThermalReading {
    let tempC: number | null = null;
    for (const z of this.zones) {
      const milli = readNumber(this.env.sysRoot, ...THERMAL, z, 'temp');
      if (milli === undefined || milli < -40_000 || milli > 200_000) continue; // absent or a sensor fault
      tempC = Math.max(tempC ?? -Infinity, milli / 1000);
    }
    return { tempC, throttle: this.throttled?.() ?? null };
  }
}
