import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { JwtSettings } from './domain/authentication';
import type { JwksSettings } from './data-access/jwks-verifier';
import { connectionFromUrl } from './data-access/db';
import { passwordProblem, USERNAME, USERNAME_RULE } from './domain/manage-users';

export type Role = 'all' | 'api' | 'worker' | 'migrate' | 'users';

/** Thrown for a bad or missing variable; main prints its one-line message and exits 78. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.map((p) => p + '//').join(' or ')}` },
  );

/**
 * Express `trust proxy`: a hop count, a comma-separated list of CIDRs/addresses or the names
 * loopback/linklocal/uniquelocal. `true` would trust any X-Forwarded-For and is refused.
 */
const trustProxy = z.string().transform((value, ctx): number | string[] | false => {
  const v = value.trim();
  if (v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'true') {
    ctx.addIssue({ code: 'custom', message: 'true trusts every hop; give a hop count or CIDRs' });
    return z.NEVER;
  }
  const entries = v.split(',').map((s) => s.trim());
  const valid = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/;
  if (entries.some((e) => !valid.test(e))) {
    ctx.addIssue({ code: 'custom', message: 'expected a hop count, CIDR list or loopback' });
    return z.NEVER;
  }
  return entries;
});

// An IP address or an RFC 1123 hostname: what server.listen() accepts as a host.
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const host = z.string().refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), {
  message: 'must be an IP address or a hostname',
});

/**
 * Key prefix for BullMQ queues, rate limits and locks. No ':' (BullMQ's separator) and no glob
 * characters, so `SCAN MATCH <prefix>:*` finds this deployment's keys and no other's; braces
 * only around the whole prefix, as a Redis Cluster hash tag keeping a queue in one slot.
 */
const REDIS_PREFIX = /^([A-Za-z0-9._-]{1,128}|\{[A-Za-z0-9._-]{1,126}\})$/;

/** `order-service-<database>`: instances on different databases get different queues. */
function defaultRedisPrefix(database: string): string {
  return database ? `order-service-${database.replace(/[^A-Za-z0-9._-]/g, '_')}` : 'order-service';
}

/** DATABASE_URL parsed once: host and port for log lines, the database name unescaped. */
function databaseOf(databaseUrl: string): DatabaseSettings {
  const { host, port, database } = connectionFromUrl(databaseUrl);
  return { url: databaseUrl, host, port, name: database };
}

/** Host names, addresses or CIDRs a webhook may reach even though they are private. */
const allowedHosts = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const entries = (v ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [net, prefix, extra] = entry.split('/');
      const family = isIP(net!);
      const validCidr =
        family !== 0 &&
        extra === undefined &&
        (prefix === undefined ||
          (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)));
      if (!validCidr && !(prefix === undefined && HOSTNAME.test(entry))) {
        ctx.addIssue({ code: 'custom', message: `${entry} is not a host name, address or CIDR` });
        return z.NEVER;
      }
    }
    return entries;
  });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const schema = z.object({
  PORT: integer(0, 65535).default(8080),
  METRICS_PORT: integer(0, 65535).default(9464),
  METRICS_HOST: optionalString.pipe(host.optional()),
  DATABASE_URL: url(['mysql:']).default('mysql://root@127.0.0.1:3306/orders'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: optionalString.refine((v) => v === undefined || REDIS_PREFIX.test(v), {
    message: 'must be 1-128 characters of A-Z a-z 0-9 . _ - (optionally wrapped in {})',
  }),
  MIGRATE_ON_START: boolean.optional(),
  JWT_SECRET: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 32, {
    message: 'must be at least 32 bytes',
  }),
  JWT_JWKS_URL: optionalString.pipe(url(['https:', 'http:']).optional()),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_ROLE_CLAIM: z.string().min(1).default('role'),
  JWT_CUSTOMER_ID_CLAIM: z.string().min(1).default('customer_id'),
  ADMIN_USERNAME: optionalString,
  ADMIN_PASSWORD: optionalString,
  TRUST_PROXY: trustProxy.default(['loopback']),
  RATE_LIMIT_MAX: integer(1, 1_000_000).default(600),
  RATE_LIMIT_WINDOW_SECONDS: integer(1, 86_400).default(60),
  RATE_LIMIT_AUTH_FAILURES_MAX: integer(1, 1_000_000).default(20),
  RATE_LIMIT_ACCOUNT_FAILURES_MAX: integer(1, 1_000_000).default(10),
  CORS_ORIGINS: optionalString.transform((v, ctx) => {
    const origins = (v ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of origins) {
      if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin)) {
        ctx.addIssue({
          code: 'custom',
          message: `${origin} is not an origin like https://app.example.com`,
        });
        return z.NEVER;
      }
    }
    return origins;
  }),
  ORDER_RETENTION_DAYS: integer(0, 36_500).default(0),
  EVENT_RETENTION_HOURS: integer(1, 87_600).default(168),
  EVENT_STREAM_MAX_PER_USER: integer(1, 10_000).default(5),
  EVENT_STREAM_HEARTBEAT_SECONDS: integer(1, 300).default(15),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  SHUTDOWN_TIMEOUT_SECONDS: integer(1, 3600).default(25),
  WEBHOOK_ALLOW_HTTP: boolean.default(false),
  WEBHOOK_ALLOWED_HOSTS: allowedHosts,
  WEBHOOK_TIMEOUT_SECONDS: integer(1, 60).default(10),
  WEBHOOK_CONCURRENCY: integer(1, 1000).default(16),
  WEBHOOK_RETRY_HOURS: integer(0, 720).default(72),
  WEBHOOK_SECRET_GRACE_HOURS: integer(0, 720).default(24),
  WEBHOOK_SECRET_KEY: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 32, {
    message: 'must be at least 32 bytes',
  }),
  GIT_COMMIT: optionalString,
});

type Env = z.infer<typeof schema>;

/** Every environment variable the service reads; the README and the chart are checked against it. */
export const ENV_VARS = Object.keys(schema.shape) as (keyof Env)[];

export interface DatabaseSettings {
  url: string;
  host: string;
  port: number;
  name: string;
}

export interface Config {
  role: Role;
  port: number;
  metricsPort: number;
  metricsHost: string;
  databaseUrl: string;
  database: DatabaseSettings;
  redisUrl: string;
  redisPrefix: string;
  migrateOnStart: boolean;
  /** Own tokens (domain) and an external provider's (the JWKS adapter), as their owners type them. */
  jwt: JwtSettings & Omit<JwksSettings, 'cooldownMs'>;
  /** No JWT_SECRET in the all role: jwt.secret is random and its tokens die with the process. */
  ephemeralJwtSecret: boolean;
  admin?: { username: string; password: string };
  trustProxy: number | string[] | false;
  rateLimit: {
    max: number;
    windowSeconds: number;
    authFailuresMax: number;
    accountFailuresMax: number;
  };
  corsOrigins: string[];
  orderRetentionDays: number;
  /** Published events are kept this long: how far back a stream can resume. */
  eventRetentionHours: number;
  /** Event streams one user may hold open on one api replica, and their heartbeat. */
  eventStreams: { maxPerUser: number; heartbeatSeconds: number };
  logLevel: Env['LOG_LEVEL'];
  shutdownTimeoutSeconds: number;
  /** Shown in order_service_build_info; `unknown` when GIT_COMMIT is unset. */
  gitCommit: string;
  webhooks: {
    allowHttp: boolean;
    allowedHosts: string[];
    timeoutMs: number;
    concurrency: number;
    /** Retries stop once their delays would pass this. */
    retryMs: number;
    secretGraceMs: number;
    /** Encrypts the stored signing secrets; unset, they are stored as they are. */
    secretKey?: string;
  };
}

export function loadConfig(role: Role, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const database = databaseOf(e.DATABASE_URL);
  const servesHttpAuth = role === 'all' || role === 'api';
  // `all` is the local one-process mode: without a secret it signs with a random one that
  // dies with the process, so `npm ci && npm start` works on a fresh machine.
  const ephemeralSecret = role === 'all' && !e.JWT_SECRET && !e.JWT_JWKS_URL;
  if (servesHttpAuth && !ephemeralSecret && !e.JWT_SECRET && !e.JWT_JWKS_URL) {
    throw new ConfigError('JWT_SECRET', 'required (at least 32 bytes) unless JWT_JWKS_URL is set');
  }
  if (Boolean(e.ADMIN_USERNAME) !== Boolean(e.ADMIN_PASSWORD)) {
    const missing = e.ADMIN_USERNAME ? 'ADMIN_PASSWORD' : 'ADMIN_USERNAME';
    throw new ConfigError(missing, 'ADMIN_USERNAME and ADMIN_PASSWORD must be set together');
  }
  if (e.ADMIN_USERNAME && !USERNAME.test(e.ADMIN_USERNAME)) {
    throw new ConfigError('ADMIN_USERNAME', USERNAME_RULE);
  }
  const adminPasswordProblem = e.ADMIN_PASSWORD && passwordProblem(e.ADMIN_PASSWORD);
  if (adminPasswordProblem) throw new ConfigError('ADMIN_PASSWORD', adminPasswordProblem);
  return Object.freeze({
    role,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST ?? '0.0.0.0',
    databaseUrl: e.DATABASE_URL,
    database,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX ?? defaultRedisPrefix(database.name),
    migrateOnStart: e.MIGRATE_ON_START ?? role === 'all',
    jwt: {
      secret: ephemeralSecret ? randomBytes(32).toString('base64url') : e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      roleClaim: e.JWT_ROLE_CLAIM,
      customerIdClaim: e.JWT_CUSTOMER_ID_CLAIM,
    },
    ephemeralJwtSecret: ephemeralSecret,
    admin:
      e.ADMIN_USERNAME && e.ADMIN_PASSWORD
        ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD }
        : undefined,
    trustProxy: e.TRUST_PROXY,
    rateLimit: {
      max: e.RATE_LIMIT_MAX,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      authFailuresMax: e.RATE_LIMIT_AUTH_FAILURES_MAX,
      accountFailuresMax: e.RATE_LIMIT_ACCOUNT_FAILURES_MAX,
    },
    corsOrigins: e.CORS_ORIGINS,
    orderRetentionDays: e.ORDER_RETENTION_DAYS,
    eventRetentionHours: e.EVENT_RETENTION_HOURS,
    eventStreams: {
      maxPerUser: e.EVENT_STREAM_MAX_PER_USER,
      heartbeatSeconds: e.EVENT_STREAM_HEARTBEAT_SECONDS,
    },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    gitCommit: e.GIT_COMMIT?.trim() || 'unknown',
    webhooks: {
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS,
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
      concurrency: e.WEBHOOK_CONCURRENCY,
      retryMs: e.WEBHOOK_RETRY_HOURS * 3600_000,
      secretGraceMs: e.WEBHOOK_SECRET_GRACE_HOURS * 3600_000,
      secretKey: e.WEBHOOK_SECRET_KEY,
    },
  });
}
