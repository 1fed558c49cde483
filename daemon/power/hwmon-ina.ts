// INA power monitors on I²C through the kernel's hwmon drivers. hwmonN numbers change across boots,
// so devices are found by their `name` file. ina219/220/226/230/231 report power1_input in µW;
// ina3221 has no power attribute: P = Σ bus mV (in1..3_input) × mA (curr1..3_input) / 1e6.
import { listDir, readNumber, readText, type PowerEnv } from './power-env.js';
import type { PowerSource, PowerSourceKind } from './power-source.js';

const HWMON = ['class', 'hwmon'];
const INA2XX = new Set(['ina219', 'ina220', 'ina226', 'ina230', 'ina231']);

/** hwmon device folders whose `name` passes the test, in numeric order. */
export function findHwmon(env: PowerEnv, matches: (name: string) => boolean): { dir: string; name: string }[] {
  return listDir(env.sysRoot, ...HWMON)
    .filter((d) => /^hwmon\d+$/.test(d))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((dir) => ({ dir, name: readText(env.sysRoot, ...HWMON, dir, 'name') ?? '' }))
    .filter((d) => matches(d.name));
}

class InaSource implements PowerSource {
  readonly measured = true;
  constructor(
    readonly kind: PowerSourceKind,
    readonly describe: string,
    readonly read: () => number | null,
  ) {}
}

/** The first INA219-class monitor with a power reading. */
export function findIna2xx(env: PowerEnv): PowerSource | undefined {
  const dev = findHwmon(env, (n) => INA2XX.has(n)).find((d) => readNumber(env.sysRoot, ...HWMON, d.dir, 'power1_input') !== undefined);
  if (!dev) return undefined;
  return new InaSource('ina2xx', `${dev.dir} ${dev.name}`, () => {
    const uw = readNumber(env.sysRoot, ...HWMON, dev.dir, 'power1_input');
    return uw === undefined ? null : uw / 1e6;
  });
}

/** The first INA3221 with a wired channel (bus voltage and current both readable), over its wired channels. */
export function findIna3221(env: PowerEnv): PowerSource | undefined {
  const channelWatts = (dir: string, c: number): number | undefined => {
    const mv = readNumber(env.sysRoot, ...HWMON, dir, `in${c}_input`);
    const ma = readNumber(env.sysRoot, ...HWMON, dir, `curr${c}_input`);
    return mv === undefined || ma === undefined ? undefined : (mv * ma) / 1e6;
  };
  for (const dev of findHwmon(env, (n) => n === 'ina3221')) {
    const channels = [1, 2, 3].filter((c) => channelWatts(dev.dir, c) !== undefined);
    if (channels.length === 0) continue;
    return new InaSource('ina3221', `${dev.dir} ina3221 channels ${channels.join(', ')}`, () => {
      let watts = 0;
      for (const c of channels) {
        const w = channelWatts(dev.dir, c);
        if (w === undefined) return null;
        watts += w;
      }
      return watts;
    });
  }
  return undefined;
}
