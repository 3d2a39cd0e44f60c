import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/**
 * Structured logs (one JSON object a line, on stderr) for long-running commands, so that an
 * operator's log collector can read them and stdout stays free for what the user asked for.
 */
export function createLogger(level: LogLevel, name: string): Logger {
  return pino({ name, level }, pino.destination(2));
}
