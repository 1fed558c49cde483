// One interface over every way of knowing the power: a sensor that measures, or a model that estimates.
export type PowerSourceKind = 'rapl' | 'ina2xx' | 'ina3221' | 'pi5-pmic' | 'model';

export interface PowerSource {
  readonly kind: PowerSourceKind;
  /** True for a sensor, false for the model: reports label estimates as such. */
  readonly measured: boolean;
  /** What is read, for logs and status: "intel-rapl:0 (package-0)", "hwmon2 ina226", ... */
  readonly describe: string;
  /** Watts now, or null when no reading is available yet (a counter needs two samples). */
  read(): number | null;
}
