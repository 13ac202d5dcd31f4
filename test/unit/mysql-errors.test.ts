import {
  isDatabaseAccessDenied,
  isDuplicateKey,
  isMysqlUnavailable,
  isUnknownSystemVariable,
  queryTimeoutError,
  RETRY_REASONS,
  retryReason,
} from '../../src/data-access/mysql-errors';

/** Errors shaped as mysql2 reports them: a server error has both `code` and `errno`. */
const server = (code: string, errno: number) => Object.assign(new Error(code), { code, errno });
const network = (code: string) => Object.assign(new Error(code), { code });

describe('MySQL errors', () => {
  it('names a deadlock (a Galera certification conflict) and a lock wait as retry reasons', () => {
    expect(retryReason(server('ER_LOCK_DEADLOCK', 1213))).toBe('deadlock');
    expect(retryReason(server('ER_LOCK_WAIT_TIMEOUT', 1205))).toBe('lock_wait_timeout');
    expect(RETRY_REASONS).toEqual(['deadlock', 'lock_wait_timeout']);
  });

  it('gives no retry reason for other errors', () => {
    expect(retryReason(server('ER_DUP_ENTRY', 1062))).toBeUndefined();
    expect(retryReason(network('ECONNREFUSED'))).toBeUndefined();
    expect(retryReason(undefined)).toBeUndefined();
    expect(retryReason(server('constructor', 0))).toBeUndefined();
  });

  it('tells a duplicate key, a denied database and an unknown variable apart', () => {
    expect(isDuplicateKey(server('ER_DUP_ENTRY', 1062))).toBe(true);
    expect(isDuplicateKey(server('ER_LOCK_DEADLOCK', 1213))).toBe(false);
    expect(isDatabaseAccessDenied(server('ER_DBACCESS_DENIED_ERROR', 1044))).toBe(true);
    expect(isDatabaseAccessDenied(server('ER_DUP_ENTRY', 1062))).toBe(false);
    expect(isUnknownSystemVariable(server('ER_UNKNOWN_SYSTEM_VARIABLE', 1193))).toBe(true);
    expect(isUnknownSystemVariable(null)).toBe(false);
  });

  it.each([
    ['a refused connection', network('ECONNREFUSED')],
    ['a lost connection', network('PROTOCOL_CONNECTION_LOST')],
    ['a Galera node without quorum (1047)', server('ER_UNKNOWN_COM_ERROR', 1047)],
    ['too many connections', server('ER_CON_COUNT_ERROR', 1040)],
    ['a deadlock that outlasted its retries', server('ER_LOCK_DEADLOCK', 1213)],
    ['our query deadline', queryTimeoutError(2000)],
    ['a fatal error without a code', Object.assign(new Error('rollback'), { fatal: true })],
    ['a pool wait timeout', Object.assign(new Error('pool'), { name: 'KnexTimeoutError' })],
  ])('counts %s as MySQL unavailable', (_, err) => expect(isMysqlUnavailable(err)).toBe(true));

  it('does not count a bad statement or a duplicate key as MySQL unavailable', () => {
    expect(isMysqlUnavailable(server('ER_PARSE_ERROR', 1064))).toBe(false);
    expect(isMysqlUnavailable(server('ER_DUP_ENTRY', 1062))).toBe(false);
    expect(isMysqlUnavailable(undefined)).toBe(false);
  });
});
