// How a user runs this bitnetd's command line again, for hints in messages: "bitnetd" where that is on
// the PATH (the npm global install, the Debian package), else node and this checkout's cli.js (a
// checkout has no bitnetd command). Under systemd the daemon is another user's: the hint says sudo -u.
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

function onPath(command: string, path = process.env['PATH'] ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The command line that runs `bitnetd <args>` as the user this process runs as. */
export function selfCommand(args: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromCwd = relative(process.cwd(), CLI);
  const base = onPath('bitnetd', env['PATH']) ? 'bitnetd' : `node ${isAbsolute(fromCwd) || fromCwd.startsWith('..') ? CLI : fromCwd}`;
  const asService = env['INVOCATION_ID'] !== undefined && process.getuid?.() !== 0;
  return `${asService ? `sudo -u ${userInfo().username} ` : ''}${base} ${args}`;
}
