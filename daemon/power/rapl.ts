// RAPL through powercap: a package's energy counter in µJ; power is its change over time. The counter
// wraps at max_energy_range_uj. Since Linux 5.10 energy_uj is readable by root only (chmod or a udev
// rule grants it), so an unreadable counter means "not this source", not an error.
import { listDir, readNumber, readText, type PowerEnv } from './power-env.js';
import type { PowerSource } from './power-source.js';

const POWERCAP = ['class', 'powercap'];

/** The package zones (intel-rapl:N, named package-N) whose counter can be read. */
export function findRaplZones(env: PowerEnv): string[] {
  return listDir(env.sysRoot, ...POWERCAP)
    .filter((z) => /^intel-rapl:\d+$/.test(z) && readText(env.sysRoot, ...POWERCAP, z, 'name')?.startsWith('package'))
    .filter((z) => readNumber(env.sysRoot, ...POWERCAP, z, 'energy_uj') !== undefined)
    .sort();
}

export class RaplSource implements PowerSource {
  readonly kind = 'rapl';
  readonly measured = true;
  readonly describe: string;
  private last: { uj: number[]; at: number } | undefined;

  constructor(
    private readonly env: PowerEnv,
    private readonly zones: string[],
  ) {
    this.describe = zones.map((z) => `${z} (${readText(env.sysRoot, ...POWERCAP, z, 'name') ?? '?'})`).join(', ');
  }

  read(): number | null {
    const at = this.env.now();
    const uj = this.zones.map((z) => readNumber(this.env.sysRoot, ...POWERCAP, z, 'energy_uj'));
    if (uj.some((v) => v === undefined)) return null;
    const now = { uj: uj as number[], at };
    const prev = this.last;
    this.last = now;
    if (!prev || at <= prev.at) return null;
    let joules = 0;
    this.zones.forEach((z, i) => {
      let delta = now.uj[i]! - prev.uj[i]!;
      if (delta < 0) delta += readNumber(this.env.sysRoot, ...POWERCAP, z, 'max_energy_range_uj') ?? 0; // wrapped
      joules += delta / 1e6;
    });
    return joules / ((at - prev.at) / 1000);
  }
}
