import winston from 'winston';
import { currentContext } from './request-context';

export type Logger = winston.Logger;

const withContext = winston.format((info) => Object.assign(info, currentContext()));

/**
 * winston runs the formats of every line before its transport drops the ones below the level:
 * at `warn`, each `info` line was still given a timestamp and serialized. Dropped first here.
 */
const atLeast = (level: string) => {
  const levels = winston.config.npm.levels;
  const threshold = levels[level] ?? levels.info!;
  return winston.format((info) => (levels[info.level]! <= threshold ? info : false))();
};

/** JSON lines on stdout; every line carries the request/job context when there is one. */
export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(
      atLeast(level),
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
