import { pino } from 'pino';

// Logs go to stderr so stdout stays clean for event output.
export const log = pino({ level: process.env.DNSLENS_LOG_LEVEL ?? 'info', base: undefined }, pino.destination(2));

export function setLogLevel(level: string): void {
  log.level = level;
}
