// Synthetic model fixtures, generated once with the project's own writer and cached on disk.
// ava runs test files in parallel processes, so a file is written under a unique temporary name and
// renamed; within one process, concurrent requests for the same model share one promise.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SHAPES, writeSyntheticModel, type MetadataLayout, type ModelShape } from '../../daemon/synth/synthetic-model.js';
import { FIXTURE_DIR } from './paths.js';

const pending = new Map<string, Promise<string>>();

export function syntheticModel(name: keyof typeof SHAPES | ModelShape, layout: MetadataLayout, seed = 7): Promise<string> {
  const shape = typeof name === 'string' ? SHAPES[name]! : name;
  const key = JSON.stringify([shape, layout, seed]);
  if (!pending.has(key)) pending.set(key, create(shape, layout, seed));
  return pending.get(key)!;
}

async function create(shape: ModelShape, layout: MetadataLayout, seed: number): Promise<string> {
  const tag = `${shape.nEmbd}x${shape.nLayer}-h${shape.nHead}-kv${shape.nHeadKv}-ff${shape.nFf}-c${shape.nCtx}`;
  const path = join(FIXTURE_DIR, `synth-${tag}-${layout}-s${seed}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeSyntheticModel(tmp, { shape, seed, layout });
  renameSync(tmp, path);
  return path;
}
