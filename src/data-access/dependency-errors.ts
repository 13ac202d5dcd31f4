/**
 * What an error from MySQL or Redis means for the caller: the dependency is unavailable right
 * now (answer 503, retry the job later, never mark an order failed) or something else.
 */
import { isMysqlUnavailable } from './mysql-errors';

/** ioredis errors of a connection that is down, stalled or not ready. */
function isRedisUnavailable(err: unknown): boolean {
  const e = (err ?? {}) as { name?: string; message?: string };
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    /^(Command timed out|Stream isn't writeable|Connection is closed)/.test(e.message ?? '')
  );
}

/** Which dependency an error says is unavailable, if any. */
export function unavailableDependency(err: unknown): 'MySQL' | 'Redis' | undefined {
  if (isMysqlUnavailable(err)) return 'MySQL';
  if (isRedisUnavailable(err)) return 'Redis';
  return undefined;
}
