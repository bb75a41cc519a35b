import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger per process, created once and reused (Powertools). Handlers add the call's identity
 * (call SID, session, connection, turn) with `appendKeys` so every line of an invocation carries it.
 * LOG_LEVEL controls verbosity; POWERTOOLS_SERVICE_NAME names the service.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'conversation-relay',
  logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' | undefined) ?? 'INFO',
});

export type AppLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys' | 'removeKeys'>;
