import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON-lines logger on stdout. Never log secrets: credentials are redacted by path as a second line of defence. */
export function createLogger(level: string, name = 'mnemo'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['key', 'adminKey', 'authorization', '*.authorization', '*.key'], censor: '[redacted]' },
  });
}

/** A logger that drops everything, for tests and tools that do not want output. */
export const silentLogger: Logger = pino({ level: 'silent' });
