import { ConfigError, loadConfig } from '../../src/config';

const secret = { JWT_SECRET: 'y'.repeat(32) };

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig('api', secret);
    expect(c).toMatchObject({
      port: 8080,
      metricsPort: 9464,
      databaseUrl: 'mysql://root@127.0.0.1:3306/orders',
      redisUrl: 'redis://127.0.0.1:6379',
      migrateOnStart: false,
      trustProxy: ['loopback'],
      rateLimit: { max: 600, windowSeconds: 60 },
      orderRetentionDays: 0,
      logLevel: 'info',
      shutdownTimeoutSeconds: 25,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('migrates on start by default only in the all role', () => {
    expect(loadConfig('all', secret).migrateOnStart).toBe(true);
    expect(loadConfig('worker', {}).migrateOnStart).toBe(false);
    expect(loadConfig('all', { ...secret, MIGRATE_ON_START: 'false' }).migrateOnStart).toBe(false);
  });

  it.each([
    ['1', 1],
    ['0', false],
    ['false', false],
    ['10.0.0.0/8, 192.168.0.1', ['10.0.0.0/8', '192.168.0.1']],
    ['loopback', ['loopback']],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig('api', { ...secret, TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each(['true', 'everyone', '1.2.3.4/x'])('refuses TRUST_PROXY=%s', (value) => {
    expect(() => loadConfig('api', { ...secret, TRUST_PROXY: value })).toThrow(ConfigError);
  });

  it('accepts a JWKS URL instead of a secret', () => {
    const c = loadConfig('api', {
      JWT_JWKS_URL: 'https://idp.example/jwks',
      JWT_ISSUER: 'https://idp.example/',
    });
    expect(c.jwt.jwksUrl).toBe('https://idp.example/jwks');
  });

  it('uses a random ephemeral secret in the all role when none is set', () => {
    const a = loadConfig('all', {});
    const b = loadConfig('all', {});
    expect(a.ephemeralJwtSecret).toBe(true);
    expect(a.jwt.secret).not.toBe(b.jwt.secret);
  });

  it('names the variable in the error', () => {
    expect(() => loadConfig('api', { ...secret, RATE_LIMIT_MAX: '0' })).toThrow(
      /^RATE_LIMIT_MAX: /,
    );
  });
});

describe('METRICS_HOST', () => {
  it('defaults to every IPv4 address', () => {
    expect(loadConfig('api', secret).metricsHost).toBe('0.0.0.0');
  });

  it.each(['127.0.0.1', '::', '::1', 'localhost', 'metrics.internal.example'])(
    'accepts %s',
    (value) => {
      expect(loadConfig('api', { ...secret, METRICS_HOST: value }).metricsHost).toBe(value);
    },
  );

  it.each(['not a host', 'http://127.0.0.1', '127.0.0.1:9464', '-bad-'])('refuses %s', (value) => {
    expect(() => loadConfig('api', { ...secret, METRICS_HOST: value })).toThrow(
      /^METRICS_HOST: must be an IP address or a hostname/,
    );
  });
});

describe('REDIS_PREFIX', () => {
  const prefixFor = (env: Record<string, string>) => loadConfig('worker', env).redisPrefix;

  it('defaults to one derived from the database name, so two databases never share queues', () => {
    expect(prefixFor({})).toBe('order-service-orders');
    expect(prefixFor({ REDIS_PREFIX: '' })).toBe('order-service-orders');
    expect(prefixFor({ DATABASE_URL: 'mysql://u:p@db:3306/shop_eu' })).toBe(
      'order-service-shop_eu',
    );
  });

  it('replaces characters a prefix may not carry in the derived default', () => {
    expect(prefixFor({ DATABASE_URL: 'mysql://db/my%24db%3Aone' })).toBe('order-service-my_db_one');
    expect(prefixFor({ DATABASE_URL: 'mysql://db/' })).toBe('order-service');
  });

  it.each(['bull', 'staging.orders', 'a-b_c.1', '{orders}'])('accepts %s', (value) => {
    expect(prefixFor({ REDIS_PREFIX: value })).toBe(value);
  });

  it.each(['orders:eu', 'orders*', 'with space', '{a}b', 'a{b}'])('refuses %s', (value) => {
    expect(() => loadConfig('worker', { REDIS_PREFIX: value })).toThrow(/^REDIS_PREFIX: /);
  });

  it('allows at most 128 characters', () => {
    expect(prefixFor({ REDIS_PREFIX: 'x'.repeat(128) })).toHaveLength(128);
    expect(() => loadConfig('worker', { REDIS_PREFIX: 'x'.repeat(129) })).toThrow(/^REDIS_PREFIX/);
  });
});

describe('DATABASE_URL', () => {
  it('is parsed once into host, port and the unescaped database name', () => {
    expect(
      loadConfig('worker', { DATABASE_URL: 'mysql://u:p@db.example/my%24db' }).database,
    ).toEqual({
      url: 'mysql://u:p@db.example/my%24db',
      host: 'db.example',
      port: 3306,
      name: 'my$db',
    });
    expect(loadConfig('worker', {}).database).toMatchObject({ host: '127.0.0.1', port: 3306 });
  });
});

describe('GIT_COMMIT', () => {
  it('is the commit of build info, "unknown" when unset or blank', () => {
    expect(loadConfig('worker', { GIT_COMMIT: ' 0a1b2c3 ' }).gitCommit).toBe('0a1b2c3');
    expect(loadConfig('worker', { GIT_COMMIT: '' }).gitCommit).toBe('unknown');
    expect(loadConfig('worker', {}).gitCommit).toBe('unknown');
  });
});

describe('WEBHOOK_*', () => {
  it('defaults to https only, no allow-list, 10 s attempts, 3 days of retries, 24 h grace', () => {
    expect(loadConfig('worker', {}).webhooks).toEqual({
      allowHttp: false,
      allowedHosts: [],
      timeoutMs: 10_000,
      concurrency: 16,
      retryMs: 72 * 3600_000,
      secretGraceMs: 24 * 3600_000,
    });
  });

  it('reads an allow-list of host names, addresses and CIDRs', () => {
    const env = { WEBHOOK_ALLOWED_HOSTS: ' hooks.internal, 10.20.0.0/16,::1 , fd00::/8' };
    expect(loadConfig('worker', env).webhooks.allowedHosts).toEqual([
      'hooks.internal',
      '10.20.0.0/16',
      '::1',
      'fd00::/8',
    ]);
  });

  it.each(['10.0.0.0/33', 'not a host', 'hooks.internal/8', '10.0.0.1/8/1'])(
    'refuses the allow-list entry %s, naming the variable',
    (entry) => {
      expect(() => loadConfig('worker', { WEBHOOK_ALLOWED_HOSTS: entry })).toThrow(ConfigError);
      expect(() => loadConfig('worker', { WEBHOOK_ALLOWED_HOSTS: entry })).toThrow(
        /^WEBHOOK_ALLOWED_HOSTS: /,
      );
    },
  );

  it('refuses a WEBHOOK_ALLOW_HTTP that is not a boolean', () => {
    expect(() => loadConfig('worker', { WEBHOOK_ALLOW_HTTP: 'yes' })).toThrow(
      /^WEBHOOK_ALLOW_HTTP: /,
    );
  });
});
