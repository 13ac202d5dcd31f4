import winston from 'winston';
import { currentContext } from './request-context';

export type Logger = winston.Logger;

const withContext = winston.format((info) => Object.assign(info, currentContext()));

/** JSON lines on stdout; every line carries the request/job context when there is one. */
export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(
      withContext(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
}
