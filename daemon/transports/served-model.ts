// The model the daemon serves, as the transports that describe it (Ollama's model card, Wyoming's info)
// present it.
import type { BitnetModel } from '../engine/index.js';

/** The model served, and the context its requests get. */
export interface ServedModel {
  model: BitnetModel;
  contextSize: number;
}

/** The name clients know the model by (Ollama's model name, Wyoming's model). */
export const DEFAULT_MODEL_NAME = 'bitnet-b1.58-2b-4t';

/** Every weight of the model, embeddings and norms included. */
export function parameterCount(model: BitnetModel): number {
  return model.info.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** "2.4B" from a parameter count, as Ollama writes sizes. */
export function parameterSize(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  return `${Math.round(n / 1e3)}K`;
}
