// Picks the power source: RAPL, then an INA219/226-class monitor, then an INA3221, then the Pi 5 PMIC,
// then the model. A forced kind (BITNETD_POWER_SOURCE) that is not available is an error, not a
// silent fallback: the user asked for a measurement.
import { CpuModelSource, type PowerModelParams } from './cpu-model.js';
import { findIna2xx, findIna3221 } from './hwmon-ina.js';
import type { PowerEnv } from './power-env.js';
import type { PowerSource, PowerSourceKind } from './power-source.js';
import { Pi5PmicSource } from './pi5-pmic.js';
import { RaplSource, findRaplZones } from './rapl.js';

type Finder = (env: PowerEnv) => PowerSource | undefined | Promise<PowerSource | undefined>;

const FINDERS: Record<Exclude<PowerSourceKind, 'model'>, { find: Finder; needs: string }> = {
  rapl: {
    find: (env) => {
      const zones = findRaplZones(env);
      return zones.length > 0 ? new RaplSource(env, zones) : undefined;
    },
    needs: 'a readable /sys/class/powercap/intel-rapl:N/energy_uj (root only since Linux 5.10: grant read with chmod or a udev rule)',
  },
  ina2xx: { find: findIna2xx, needs: 'an ina219/220/226/230/231 hwmon device with power1_input' },
  ina3221: { find: findIna3221, needs: 'an ina3221 hwmon device (enabled by a device-tree overlay)' },
  'pi5-pmic': { find: Pi5PmicSource.find, needs: 'a Raspberry Pi 5 with vcgencmd, run by a member of group video' },
};

export async function detectPowerSource(env: PowerEnv, model: PowerModelParams, forced?: PowerSourceKind): Promise<PowerSource> {
  if (forced === 'model') return new CpuModelSource(env, model);
  if (forced) {
    const source = await FINDERS[forced].find(env);
    if (!source) throw new Error(`power source "${forced}" is not available here: it needs ${FINDERS[forced].needs}`);
    return source;
  }
  for (const kind of Object.keys(FINDERS) as (keyof typeof FINDERS)[]) {
    const source = await FINDERS[kind].find(env);
    if (source) return source;
  }
  return new CpuModelSource(env, model);
}
