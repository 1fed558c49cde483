// The Raspberry Pi 5's PMIC through `vcgencmd pmic_read_adc`: currents and voltages per rail. SoC power
// is VDD_CORE_A × VDD_CORE_V. Rails are paired by name, never by the (N) index, which differs between
// a rail's current and voltage lines. Each reading spawns a process, so it is sampled at most 5 times a
// second (the last value is reused in between). Needs group `video`.
import type { PowerEnv } from './power-env.js';
import type { PowerSource } from './power-source.js';

const LINE = /(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([-\d.eE+]+|nan)[AV]/g;
const MIN_INTERVAL_MS = 200;

/** Rail name → { amps, volts } from pmic_read_adc's text (tolerates NULs, nan and missing halves). */
export function parsePmicAdc(text: string): Map<string, { amps?: number; volts?: number }> {
  const rails = new Map<string, { amps?: number; volts?: number }>();
  for (const m of text.replaceAll('\0', '\n').matchAll(LINE)) {
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const rail = rails.get(m[1]!) ?? {};
    if (m[2] === 'A') rail.amps = value;
    else rail.volts = value;
    rails.set(m[1]!, rail);
  }
  return rails;
}

export class Pi5PmicSource implements PowerSource {
  readonly kind = 'pi5-pmic';
  readonly measured = true;
  readonly describe = 'vcgencmd pmic_read_adc VDD_CORE (SoC)';
  private last: { at: number; watts: number | null } | undefined;

  constructor(private readonly env: PowerEnv) {}

  /** The SoC's watts from one pmic_read_adc run, or null when VDD_CORE is not both there. */
  static coreWatts(text: string): number | null {
    const core = parsePmicAdc(text).get('VDD_CORE');
    return core?.amps !== undefined && core.volts !== undefined ? core.amps * core.volts : null;
  }

  static find(env: PowerEnv): Pi5PmicSource | undefined {
    try {
      return Pi5PmicSource.coreWatts(env.run('vcgencmd', ['pmic_read_adc'])) === null ? undefined : new Pi5PmicSource(env);
    } catch {
      return undefined; // no vcgencmd, not a Pi 5, or not in group video
    }
  }

  read(): number | null {
    const at = this.env.now();
    if (this.last && at - this.last.at < MIN_INTERVAL_MS) return this.last.watts;
    let watts: number | null;
    try {
      watts = Pi5PmicSource.coreWatts(this.env.run('vcgencmd', ['pmic_read_adc']));
    } catch {
      watts = null;
    }
    this.last = { at, watts };
    return watts;
  }
}
