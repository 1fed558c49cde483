// Builds the power governor from the configuration: finds the power source and the thermal guard,
// reads the limits saved at run time. Every failure is an Error whose message says what to fix.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { detectPowerSource } from './detect.js';
import type { GovernorSetting } from './governor.js';
import { defaultPowerEnv, type PowerEnv } from './power-env.js';
import { PowerManager } from './power-manager.js';
import { loadPowerOverrides } from './power-state.js';
import { ThermalGuard } from './thermal.js';

export async function createPowerManager(
  cfg: Config['power'],
  maxThreads: number,
  apply: (setting: GovernorSetting) => void,
  log: Logger,
  env: PowerEnv = defaultPowerEnv(),
): Promise<PowerManager> {
  const model = { idleWatts: cfg.model.idle_watts, wattsPerCore: cfg.model.watts_per_core, alpha: cfg.model.alpha };
  const source = await detectPowerSource(env, model, cfg.source === 'auto' ? undefined : cfg.source);
  const thermal = await ThermalGuard.create(env);
  return new PowerManager({
    env,
    source,
    thermal,
    configured: { budgetWatts: cfg.budget_watts, maxTempC: cfg.max_temp_c },
    overrides: loadPowerOverrides(cfg.state_file),
    stateFile: cfg.state_file,
    intervalMs: Math.max(50, cfg.interval_ms),
    maxThreads,
    apply,
    log,
  });
}
