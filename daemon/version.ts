// The package version, read once from package.json.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
export const VERSION: string = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
