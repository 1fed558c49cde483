// How the served model presents itself to Ollama clients: its entry in /api/tags and /api/ps and its
// /api/show card. It is listed with an explicit tag, so that Home Assistant, which names models
// "name:tag", finds it and does not ask to pull it.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { BitnetModel } from '../../engine/index.js';
import { parameterCount, parameterSize } from '../served-model.js';
import type { OllamaModelDetails, OllamaModelEntry } from './protocol.js';

/**
 * The sha256 of the model file, as Ollama lists a model's digest. Hashing 1.2 GB takes seconds (a Pi:
 * a minute), so it runs in the background at start and lands in a "<model>.sha256" file beside it
 * (written by `bitnetd pull` too) for the next start; until then the digest is one of the file's size
 * and modification time.
 */
export class ModelDigest {
  private value: string;

  constructor(private readonly path: string) {
    const st = statSync(path);
    const stamp = `${st.size}:${Math.floor(st.mtimeMs)}`;
    this.value = createHash('sha256').update(`${stamp}:${path}`).digest('hex');
    const saved = readSidecar(path, stamp);
    if (saved) this.value = saved;
    else void hashFile(path).then((hex) => {
      this.value = hex;
      try {
        writeFileSync(`${path}.sha256`, `${hex}  ${stamp}\n`);
      } catch {
        // a read-only models folder: it is hashed again at the next start
      }
    }, () => {});
  }

  get hex(): string {
    return this.value;
  }
}

function readSidecar(path: string, stamp: string): string | undefined {
  try {
    const [hex, savedStamp] = readFileSync(`${path}.sha256`, 'utf8').trim().split(/\s+/);
    return hex && /^[0-9a-f]{64}$/.test(hex) && savedStamp === stamp ? hex : undefined;
  } catch {
    return undefined;
  }
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

export class ModelCard {
  readonly name: string;
  private readonly digest: ModelDigest;

  constructor(
    private readonly model: BitnetModel,
    baseName: string,
    private readonly contextSize: number,
  ) {
    this.name = `${baseName}:latest`;
    this.digest = new ModelDigest(model.path);
  }

  /** Whether a request's model name means this model ("name", "name:latest", any case). */
  matches(requested: string): boolean {
    const want = requested.toLowerCase();
    return want === this.name || want === this.name.replace(/:latest$/, '');
  }

  details(): OllamaModelDetails {
    return {
      parent_model: '',
      format: 'gguf',
      family: 'bitnet',
      families: ['bitnet'],
      parameter_size: parameterSize(parameterCount(this.model)),
      quantization_level: 'I2_S',
    };
  }

  entry(): OllamaModelEntry {
    const st = statSync(this.model.path);
    return { name: this.name, model: this.name, modified_at: st.mtime.toISOString(), size: st.size, digest: this.digest.hex, details: this.details() };
  }

  /** /api/ps: the model is always loaded, never unloaded, and lives in RAM. */
  running(): Record<string, unknown> {
    return { ...this.entry(), expires_at: '2318-08-11T00:00:00Z', size_vram: 0, context_length: this.contextSize };
  }

  /** /api/show. */
  show(): Record<string, unknown> {
    const info = this.model.info;
    const modelInfo: Record<string, unknown> = {};
    for (const m of info.metadata) if (m.value !== undefined && m.value !== null && !m.key.startsWith('tokenizer.')) modelInfo[m.key] = m.value;
    modelInfo['general.parameter_count'] = parameterCount(this.model);
    return {
      license: 'MIT',
      modelfile: `# Served by bitnetd\nFROM ${this.model.path}\n`,
      parameters: `num_ctx ${this.contextSize}\nstop "<|eot_id|>"\nstop "<|end_of_text|>"`,
      template: '{{ if .System }}System: {{ .System }}<|eot_id|>{{ end }}{{ range .Messages }}{{ if eq .Role "user" }}User: {{ .Content }}<|eot_id|>{{ else }}Assistant: {{ .Content }}<|eot_id|>{{ end }}{{ end }}Assistant: ',
      details: this.details(),
      model_info: modelInfo,
      capabilities: ['completion', 'tools'],
      modified_at: statSync(this.model.path).mtime.toISOString(),
    };
  }
}
