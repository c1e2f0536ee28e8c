import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

/** The root logger: JSON lines on stderr; secrets redacted wherever they appear by name. */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 2): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level,
      base: { app: 'controller' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'auth', '*.auth', 'password', '*.password', 'dbUrl', '*.dbUrl'], censor: '[redacted]' },
    },
    dest,
  );
}
