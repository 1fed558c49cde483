// Logging with winston: journal-friendly lines under systemd, readable lines on a terminal, or JSON.
// Prompt and answer text are only ever logged at debug level (callers pass them in `text` fields).
import winston from 'winston';
import type { LogLevel } from './config/schema.js';

export type LogFormat = 'auto' | 'text' | 'journal' | 'json';
export type Logger = winston.Logger;

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** sd-daemon(3) prefixes: the journal stores them as the message priority. */
const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/** systemd connects stderr to the journal and says so in JOURNAL_STREAM. */
export function resolveFormat(format: LogFormat, env: NodeJS.ProcessEnv = process.env): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  return env['JOURNAL_STREAM'] ? 'journal' : 'text';
}

/** `key=value` pairs after the message; strings with spaces are quoted. */
function fields(info: winston.Logform.TransformableInfo): string {
  const skip = new Set(['level', 'message', 'timestamp']);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(info)) {
    if (skip.has(k) || v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    parts.push(`${k}=${typeof v === 'string' && /[\s"=]/.test(s) ? JSON.stringify(s) : s}`);
  }
  return parts.length ? ' ' + parts.join(' ') : '';
}

function formatFor(format: Exclude<LogFormat, 'auto'>): winston.Logform.Format {
  switch (format) {
    case 'journal': // the journal adds its own timestamp
      return winston.format.printf((i) => `<${SYSLOG_PRIORITY[i.level as LogLevel] ?? 6}>${String(i.message)}${fields(i)}`);
    case 'json':
      return winston.format.combine(winston.format.timestamp(), winston.format.json());
    case 'text':
      return winston.format.combine(
        winston.format.timestamp(),
        winston.format.printf((i) => `${String(i['timestamp'])} ${i.level.padEnd(5)} ${String(i.message)}${fields(i)}`),
      );
  }
}

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  return winston.createLogger({
    levels: LEVELS,
    level,
    format: formatFor(resolveFormat(format)),
    // Everything to stderr: stdout stays free for command output, and systemd sends both to the journal.
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(LEVELS) })],
  });
}

/** Applies a reloaded level and format to a running logger (SIGHUP). */
export function reconfigureLogger(logger: Logger, level: LogLevel, format: LogFormat): void {
  logger.level = level;
  logger.format = formatFor(resolveFormat(format));
}
