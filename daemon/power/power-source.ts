// One interface over every way of knowing the power: a sensor that measures, or a model that estimates.
/** In the order detection tries them. */
export const POWER_SOURCE_KINDS = ['rapl', 'ina2xx', 'ina3221', 'pi5-pmic', 'model'] as const;
export type PowerSourceKind = (typeof POWER_SOURCE_KINDS)[number];

export interface PowerSource {
  readonly kind: PowerSourceKind;
  /** True for a sensor, false for the model: reports label estimates as such. */
  readonly measured: boolean;
  /** What is read, for logs and status: "intel-rapl:0 (package-0)", "hwmon2 ina226", ... */
  readonly describe: string;
  /** Watts now, or null when no reading is available yet (a counter needs two samples). */
  read(): number | null;
}
