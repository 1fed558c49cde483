// bitnetd config --print | --schema: the effective configuration (secrets masked), or its schema.
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { configJsonSchema } from '../config/json-schema.js';
import { EXIT } from '../exit-codes.js';
import { addConfigFlags, configSources } from './config-flags.js';

interface Flags {
  print?: boolean;
  schema?: boolean;
}

export function configCommand(): Command {
  return addConfigFlags(new Command('config'))
    .description('show the effective configuration or its schema')
    .option('--print', 'print the effective configuration, secrets masked (the default)')
    .option('--schema', 'print the JSON schema of the configuration file')
    .action((flags: Flags & Parameters<typeof configSources>[0]) => {
      if (flags.schema) {
        process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
        return;
      }
      try {
        const loaded = loadConfig(configSources(flags));
        process.stdout.write(loaded.masked + '\n');
        process.stderr.write(loaded.file ? `(settings from ${loaded.file}, the environment and flags)\n` : '(no configuration file; defaults, the environment and flags)\n');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`bitnetd: ${err.message}\n`);
        process.exitCode = EXIT.CONFIG;
      }
    });
}
