// The Raspberry Pi 5's PMIC through `vcgencmd pmic_read_adc`: currents and voltages per rail. SoC power
// is VDD_CORE_A × VDD_CORE_V. Rails are paired by name, never by the (N) index, which differs between
// a rail's current and voltage lines. Each reading spawns a process, so it is sampled in the background
// at most 5 times a second (reads in between see the last sample). Needs group `video`.
import type { PowerEnv } from './power-env.js';
import type { PowerSource } from './power-source.js';
import { SampledCommand } from './sampled-command.js';

const LINE = /(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([-\d.eE+]+|nan)[AV]/g;
const MIN_INTERVAL_MS = 200;
const ARGS = ['pmic_read_adc'];

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
  private readonly sampler: SampledCommand<number>;

  private constructor(env: PowerEnv) {
    this.sampler = new SampledCommand(env, 'vcgencmd', ARGS, Pi5PmicSource.coreWatts, MIN_INTERVAL_MS);
  }

  /** The SoC's watts from one pmic_read_adc run, or null when VDD_CORE is not both there. */
  static coreWatts(text: string): number | null {
    const core = parsePmicAdc(text).get('VDD_CORE');
    return core?.amps !== undefined && core.volts !== undefined ? core.amps * core.volts : null;
  }

  /** A source when vcgencmd answers with the VDD_CORE rail (a Pi 5, run by a member of group video). */
  static async find(env: PowerEnv): Promise<Pi5PmicSource | undefined> {
    const source = new Pi5PmicSource(env);
    source.sampler.read();
    await source.sampler.settled();
    return source.sampler.read() === null ? undefined : source;
  }

  read(): number | null {
    return this.sampler.read();
  }

  /** Resolves once a sample in flight has landed (tests, and a first reading). */
  settled(): Promise<void> {
    return this.sampler.settled();
  }
}
