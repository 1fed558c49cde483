// bitnetd serve: run the daemon in the foreground (what systemd and "npm start" run).
import { Command } from 'commander';
import { runDaemon } from '../daemon.js';
import { addConfigFlags, configSources } from './config-flags.js';

export function serveCommand(): Command {
  return addConfigFlags(new Command('serve'))
    .description('run the daemon: answer prompts over MQTT and the Unix socket')
    .action(async (flags: Parameters<typeof configSources>[0]) => {
      const code = await runDaemon(configSources(flags));
      process.exit(code);
    });
}
