// The user name, password and TLS files of the broker connection, for the transport and `bitnetd ha-remove`.
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { ConfigError } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/** Throws a ConfigError naming the setting when a TLS file cannot be read. */
export function brokerCredentials(c: Config['mqtt']): IClientOptions {
  return {
    ...(c.username ? { username: c.username } : {}),
    ...(c.password ? { password: c.password } : {}),
    ...(c.ca ? { ca: readPem(c.ca, 'mqtt.ca') } : {}),
    ...(c.cert ? { cert: readPem(c.cert, 'mqtt.cert') } : {}),
    ...(c.key ? { key: readPem(c.key, 'mqtt.key') } : {}),
    rejectUnauthorized: c.reject_unauthorized,
  };
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}
