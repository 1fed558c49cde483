// Builds the effective configuration from its four sources and validates all of it at once.
import convict from 'convict';
import { maskUrlPassword } from './secrets.js';
import { existsSync, readFileSync } from 'node:fs';
import { configSchema, defaultPaths, type Config } from './schema.js';

/** A configuration that cannot be used; the message lists every bad setting. Exit status 78. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  /** --config FILE; when absent the default file is read if it exists. */
  file?: string;
  /** Settings from command-line flags, by dotted key (highest precedence). */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, if any. */
  file: string | undefined;
  /** The same settings as convict holds them (for printing with secrets masked). */
  masked: string;
}

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const schema = configSchema(env);
  const conf = convict<Config>(schema as convict.Schema<Config>, { env, args: [] });

  const file = sources.file ?? defaultPaths(env).config;
  const explicit = sources.file !== undefined;
  let read: string | undefined;
  if (explicit || existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code ? e.message : `not valid JSON: ${e.message}`;
      throw new ConfigError(`${file}: ${why}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${file}: must hold a JSON object of settings`);
    }
    conf.load(parsed as object); // convict re-applies the environment over file values
    read = file;
  }
  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) conf.set(key as never, value as never);
  }

  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError(explainErrors((err as Error).message, schema, env, read));
  }
  const config = conf.getProperties();
  const masked = JSON.parse(conf.toString()) as Config; // sensitive settings already as "[Sensitive]"
  masked.mqtt.url = maskUrlPassword(masked.mqtt.url);
  return { config, file: read, masked: JSON.stringify(masked, null, 2) };
}

/** Convict's lines, each told where its bad value came from. */
function explainErrors(message: string, schema: object, env: NodeJS.ProcessEnv, file: string | undefined): string {
  const lines = message.split('\n').filter(Boolean).map((line) => {
    const unknown = /^configuration param '(.+)' not declared in the schema$/.exec(line);
    if (unknown) return `${unknown[1]}: unknown setting${file ? ` (in ${file})` : ''}; "bitnetd config --schema" lists them`;
    const key = line.split(':')[0] ?? '';
    const envName = envNameOf(schema, key);
    const from = envName && env[envName] !== undefined ? ` (from ${envName})` : '';
    return maskUrlPassword(line) + from;
  });
  return `invalid configuration:\n  ${lines.join('\n  ')}`;
}

function envNameOf(schema: object, dotted: string): string | undefined {
  let node: unknown = schema;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  const envName = (node as { env?: unknown } | undefined)?.env;
  return typeof envName === 'string' ? envName : undefined;
}
