/**
 * What an error from mysql2 or knex means. The only file that knows MySQL's error numbers and
 * codes; everything else asks these predicates.
 */

interface MysqlError {
  name?: string;
  code?: string;
  errno?: number;
  fatal?: boolean;
}

const fields = (err: unknown) => (err ?? {}) as MysqlError;

/** The code our query deadline gives the error of a statement MySQL did not answer. */
const QUERY_TIMEOUT_CODE = 'ORDER_SERVICE_QUERY_TIMEOUT';

/**
 * Galera reports a certification conflict at COMMIT as ER_LOCK_DEADLOCK (1213); InnoDB reports
 * lock waits as ER_LOCK_WAIT_TIMEOUT (1205). Both mean "run the whole transaction again",
 * never "resume".
 */
export const RETRY_REASONS = ['deadlock', 'lock_wait_timeout'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];
const RETRYABLE: ReadonlyMap<number, RetryReason> = new Map([
  [1213, 'deadlock'],
  [1205, 'lock_wait_timeout'],
]);

/** Why the transaction that failed with `err` is worth running again, if it is. */
export function retryReason(err: unknown): RetryReason | undefined {
  const { errno } = fields(err);
  return errno === undefined ? undefined : RETRYABLE.get(errno);
}

/** ER_DUP_ENTRY (1062): a primary or unique key is taken. */
export function isDuplicateKey(err: unknown): boolean {
  return fields(err).errno === 1062;
}

/** ER_DBACCESS_DENIED_ERROR (1044): e.g. no CREATE privilege for CREATE DATABASE. */
export function isDatabaseAccessDenied(err: unknown): boolean {
  return fields(err).errno === 1044;
}

/** ER_UNKNOWN_SYSTEM_VARIABLE (1193): e.g. wsrep_sync_wait on MySQL 8 without Galera. */
export function isUnknownSystemVariable(err: unknown): boolean {
  return fields(err).errno === 1193;
}

/** The error of a statement cut off by our deadline: `fatal`, as its connection is dropped. */
export function queryTimeoutError(ms: number): Error {
  return Object.assign(new Error(`MySQL did not answer within ${ms} ms`), {
    code: QUERY_TIMEOUT_CODE,
    fatal: true,
  });
}

/** The connection is gone or never came: refused, reset, timed out, unreachable. */
const CONNECTION_LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  QUERY_TIMEOUT_CODE,
]);

/** The server is there but will not serve now. */
const NODE_UNAVAILABLE = new Set([
  'ER_UNKNOWN_COM_ERROR', // 1047, a Galera node without quorum: "WSREP has not yet prepared node"
  'ER_CON_COUNT_ERROR', // too many connections
  'ER_SERVER_SHUTDOWN',
]);

/**
 * "MySQL cannot be used right now", not "this request is bad": answer 503, retry the job later,
 * never mark an order failed. A deadlock or lock wait here has outlasted its transaction's
 * retries.
 */
export function isMysqlUnavailable(err: unknown): boolean {
  const e = fields(err);
  // mysql2 marks errors that killed the connection `fatal`; knex may replace the original error
  // with a failed ROLLBACK on the dead connection, which carries no code but is still fatal.
  if (e.name === 'KnexTimeoutError' || e.fatal === true) return true;
  if (retryReason(err)) return true;
  return !!e.code && (CONNECTION_LOST.has(e.code) || NODE_UNAVAILABLE.has(e.code));
}
