import type { Server } from 'node:net';
import type { Logger } from './logger';

/** sysexits EX_CONFIG: the operator fixes a setting (a bad value, a port that is taken). */
export const EX_CONFIG = 78;

/**
 * A listener that cannot bind ends the process with one line naming the variable and port,
 * instead of Node's unhandled 'error' stack trace. Errors after listening (a failed accept)
 * are logged and the server keeps serving.
 */
export function exitOnListenError(
  server: Server,
  variable: string,
  port: number,
  logger: Logger,
): void {
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (server.listening) {
      logger.error('server error', { variable, port, error: err.message });
      return;
    }
    const reason =
      err.code === 'EADDRINUSE'
        ? 'is already in use'
        : err.code === 'EACCES'
          ? 'is not permitted (EACCES; ports below 1024 need privileges)'
          : `cannot be listened on: ${err.message}`;
    console.error(`order-service: ${variable} ${port} ${reason}`);
    process.exit(EX_CONFIG);
  });
}

/**
 * The process cannot be trusted after an error nothing handled: one JSON line (the stack as a
 * field, not a raw trace on stderr) and exit 1, so the orchestrator restarts it. Jobs it held
 * are retried once their locks expire.
 */
export function exitOnUncaughtErrors(logger: Logger): void {
  const fatal = (what: string) => (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    logger.error(`${what}, exiting`, { error: err.message, stack: err.stack });
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
}
