// The fuzzer's seed files (the synthetic models, both sizes and layouts) and where failing recipes go.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticModel } from '../helpers/models.js';
import { ROOT } from '../helpers/paths.js';

export const REGRESSIONS = join(ROOT, 'test', 'fuzz', 'regressions');
export const SEED_MODELS = ['micro-official', 'micro-extended', 'tiny-official', 'tiny-extended'] as const;

export async function seedModel(name: string): Promise<Buffer> {
  const [shape, layout] = name.split('-') as ['micro' | 'tiny', 'official' | 'extended'];
  return readFileSync(await syntheticModel(shape, layout));
}
