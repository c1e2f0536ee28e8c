import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

/** Paths never written to logs, wherever they appear. */
export const REDACT_PATHS = ['token', '*.token', 'auth', '*.auth', 'hello', '*.password', 'password'];

/** The agent's root logger (JSON lines on stderr; stdout is the CLI's own). Modules take `child({ component })`. */
export function createLogger(level: LogLevel, bindings: Record<string, string> = {}): Logger {
  return pino({ level, base: { ...bindings }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination(2));
}
