/**
 * What an error from MySQL or Redis means for the caller: the dependency is unavailable right
 * now (answer 503, retry the job later, never mark an order failed) or something else.
 */

/** The code our query deadline (db.ts) gives the error of a query MySQL did not answer. */
export const QUERY_TIMEOUT_CODE = 'ORDER_SERVICE_QUERY_TIMEOUT';

interface ForeignError {
  name?: string;
  code?: string;
  fatal?: boolean;
  message?: string;
}

/** mysql2/knex codes that mean "MySQL cannot be used right now", not "this request is bad". */
const MYSQL_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_UNKNOWN_COM_ERROR', // 1047, a Galera node without quorum: "WSREP has not yet prepared node"
  'ER_LOCK_DEADLOCK', // certification conflicts that outlasted the transaction's retries
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR', // too many connections
  'ER_SERVER_SHUTDOWN',
  QUERY_TIMEOUT_CODE,
]);

export function isMysqlUnavailable(err: unknown): boolean {
  const e = (err ?? {}) as ForeignError;
  // mysql2 marks errors that killed the connection `fatal`; knex may replace the original error
  // with a failed ROLLBACK on the dead connection, which carries no code but is still fatal.
  return (
    e.name === 'KnexTimeoutError' || e.fatal === true || (!!e.code && MYSQL_UNAVAILABLE.has(e.code))
  );
}

/** ioredis errors of a connection that is down, stalled or not ready. */
export function isRedisUnavailable(err: unknown): boolean {
  const e = (err ?? {}) as ForeignError;
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
