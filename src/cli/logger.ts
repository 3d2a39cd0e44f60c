import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/** Where log lines go: stderr in production; whether it is a terminal decides the format. */
export interface LogStream {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

/**
 * Logs for long-running commands, on stderr so that stdout stays free for what the user asked
 * for. For a person at a terminal, one readable line per event (`09:00:05 ERROR the SMTP relay
 * ... refused all 3 messages  component=relay`); for anything else (a file, a pipe, a log
 * collector, `docker logs`), pino's JSON, one object a line.
 *
 * The readable form is a small synchronous pino destination of our own rather than pino-pretty:
 * that is thirteen more packages, and it formats in a worker thread, whose last lines can be lost
 * when a command exits at once (`gym run --once` ending in an error). Ours formats in the same
 * write call, so what was logged is on the screen before the process ends.
 */
export function createLogger(
  level: LogLevel,
  name: string,
  stream: LogStream = process.stderr,
): Logger {
  if (stream.isTTY === true) return pino({ name, level }, readableDestination(stream));
  return pino({ name, level }, stream === process.stderr ? pino.destination(2) : stream);
}

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

// Fields every line has, or that say nothing to a person watching one process.
const hidden = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function readableDestination(stream: LogStream): DestinationStream {
  const colour = process.env.NO_COLOR === undefined;
  return {
    write(line: string) {
      stream.write(readableLine(line, { colour }));
    },
  };
}

/**
 * One pino JSON line as a person reads it: local time, level, message, then the other fields as
 * `key=value`. A line that is not JSON is passed through as it is.
 *
 * @example readableLine('{"level":50,"time":0,"msg":"refused","component":"relay"}', { colour: false })
 *   // '00:00:00 ERROR refused  component=relay\n' (in the local time zone)
 */
export function readableLine(line: string, options: { colour: boolean }): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof record.level === 'number' ? (levelNames[record.level] ?? 'LOG') : 'LOG';
  const time = typeof record.time === 'number' ? new Date(record.time) : new Date();
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  const fields = Object.entries(record)
    .filter(([key]) => !hidden.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const paint = (text: string) =>
    !options.colour
      ? text
      : level === 'ERROR' || level === 'FATAL'
        ? `\u001b[31m${text}\u001b[39m`
        : level === 'WARN'
          ? `\u001b[33m${text}\u001b[39m`
          : text;
  // Control characters (a sender's subject in a reason, say) never reach the terminal raw.
  const message = typeof record.msg === 'string' ? record.msg.replace(/\p{Cc}/gu, '') : '';
  const rest = fields.length === 0 ? '' : `  ${fields.join(' ')}`;
  return `${clock} ${paint(level.padEnd(5))} ${message}${rest}\n`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string')
    return /^[^\s"=\p{Cc}]+$/u.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
