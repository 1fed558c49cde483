// When no sensor exists (a Pi 4, this kind of VM): power estimated from CPU use,
// P = idle + Σ_cpu busy_c × watts_per_core × (f_c / f_max)^α, busy from /proc/stat deltas and f from
// cpufreq (taken as f_max where cpufreq is absent). The constants are per board: calibrate them (README).
import { readNumber, readText, type PowerEnv } from './power-env.js';
import type { PowerSource } from './power-source.js';

export interface PowerModelParams {
  idleWatts: number;
  wattsPerCore: number;
  /** Voltage rises with frequency under DVFS: 2–3; 1 when the voltage is fixed. */
  alpha: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** Per-CPU jiffies from /proc/stat: busy = total − idle − iowait. */
export function readCpuTimes(env: PowerEnv): Map<string, CpuTimes> {
  const times = new Map<string, CpuTimes>();
  for (const line of (readText(env.procRoot, 'stat') ?? '').split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((s, x) => s + (Number.isFinite(x) ? x : 0), 0);
    times.set(m[1]!, { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total });
  }
  return times;
}

export class CpuModelSource implements PowerSource {
  readonly kind = 'model';
  readonly measured = false;
  readonly describe: string;
  private last: Map<string, CpuTimes> | undefined;

  constructor(
    private readonly env: PowerEnv,
    readonly params: PowerModelParams,
  ) {
    this.describe = `model: ${params.idleWatts} W idle + ${params.wattsPerCore} W per busy core × (f/f_max)^${params.alpha}`;
  }

  read(): number | null {
    const now = readCpuTimes(this.env);
    const prev = this.last;
    this.last = now;
    if (!prev || now.size === 0) return null;
    let watts = this.params.idleWatts;
    for (const [cpu, t] of now) {
      const p = prev.get(cpu);
      if (!p || t.total <= p.total) continue;
      const busy = Math.min(1, Math.max(0, (t.busy - p.busy) / (t.total - p.total)));
      watts += busy * this.params.wattsPerCore * this.frequencyFactor(cpu);
    }
    return watts;
  }

  private frequencyFactor(cpu: string): number {
    const dir = ['devices', 'system', 'cpu', cpu, 'cpufreq'];
    const cur = readNumber(this.env.sysRoot, ...dir, 'scaling_cur_freq');
    const max = readNumber(this.env.sysRoot, ...dir, 'cpuinfo_max_freq');
    if (cur === undefined || max === undefined || max <= 0) return 1;
    return Math.min(1, cur / max) ** this.params.alpha;
  }
}
