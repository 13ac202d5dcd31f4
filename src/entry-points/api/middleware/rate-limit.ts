import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { AppError } from '../../../lib/app-error';
import type { Metrics } from '../../../lib/metrics';
import { Authentication, loginRefused } from '../../../domain/authentication';
import type { Principal } from '../../../domain/principal';
import type { LoginThrottle } from '../../../data-access/login-throttle';
import type { WindowCount } from '../../../data-access/memory-windows';
import type { RateLimitStore, Step } from '../../../data-access/rate-limit-store';
import { readCredentials } from './authenticate';

export interface RateLimits {
  /**
   * Every request, per client IP as resolved through TRUST_PROXY. For an operation that needs
   * credentials and credentials that cost no hashing (a token, Basic credentials verified
   * within the last minute), also per user and the failed-login limits, in the same Redis
   * call; the principal is then `req.user`.
   */
  perRequest(needsCredentials: (req: Request) => boolean): RequestHandler;
  /** After authentication, per user for the principals perRequest did not count. */
  perPrincipal: RequestHandler;
}

/** A limit as the draft-6 RateLimit-* headers describe it. */
interface Budget {
  limit: number;
  remaining: number;
  resetSeconds: number;
  refused: boolean;
  detail: string;
}

/**
 * The per-IP and per-user limits, shared by every pod through Redis (fixed windows, the keys
 * rate-limit-redis used). express-rate-limit counts one key per limiter and sets the headers
 * of one limiter; a request here counts two and reads the failed-login counters in one call,
 * and answers with the tighter limit, so only its IPv6 keying (a /56 per client) is kept.
 */
export function createRateLimits(opts: {
  store: RateLimitStore;
  auth: Authentication;
  throttle: LoginThrottle;
  prefix: string;
  max: number;
  windowSeconds: number;
  metrics: Metrics;
}): RateLimits {
  const { max, windowSeconds } = opts;
  const countedUser = new WeakSet<Request>();
  const ipBudgets = new WeakMap<Request, Budget>();

  const step = (limiter: 'ip' | 'principal', key: string): Step => ({
    limiter,
    key: `${opts.prefix}:rate-limit:${limiter}:${key}`,
    limit: max,
    windowMs: windowSeconds * 1000,
    mode: 'count',
  });
  const ipStep = (req: Request) => step('ip', ipKey(req.ip ?? ''));
  // A key has a budget of its own, apart from its creator's and its customer's users'.
  const userStep = (user: Principal) =>
    step('principal', user.apiKeyId ? `api-key:${user.apiKeyId}` : `user:${user.username}`);

  function budget(counted: WindowCount, who: string): Budget {
    return {
      limit: max,
      remaining: Math.max(0, max - counted.count),
      resetSeconds: Math.max(0, Math.ceil(counted.ttlMs / 1000)),
      refused: counted.count > max,
      detail: `More than ${max} requests in ${windowSeconds} s ${who}.`,
    };
  }

  function describe(res: Response, b: Budget): void {
    res.setHeader('RateLimit-Policy', `${b.limit};w=${windowSeconds}`);
    res.setHeader('RateLimit-Limit', String(b.limit));
    res.setHeader('RateLimit-Remaining', String(b.remaining));
    res.setHeader('RateLimit-Reset', String(b.resetSeconds));
  }

  /** Describes the tighter limit, or refuses by the one that is over. */
  function admit(res: Response, ...budgets: Budget[]): void {
    const refused = budgets.find((b) => b.refused);
    const tightest = budgets.reduce((a, b) =>
      b.remaining < a.remaining || (b.remaining === a.remaining && b.resetSeconds > a.resetSeconds)
        ? b
        : a,
    );
    describe(res, refused ?? tightest);
    if (!refused) return;
    opts.metrics.rateLimited.inc();
    throw new AppError('rate-limited', refused.detail, {
      headers: { 'Retry-After': String(refused.resetSeconds) },
    });
  }

  function perRequest(needsCredentials: (req: Request) => boolean): RequestHandler {
    return async (req, res, next) => {
      const credentials = needsCredentials(req) ? readCredentials(req) : undefined;
      // A lookup that fails (MySQL down) is the authentication's to report, once counted.
      let failure: unknown;
      const recognized = credentials
        ? await opts.auth.recognize(credentials, req.ip ?? '').catch((err: unknown) => {
            failure = err;
            return undefined;
          })
        : undefined;
      const login = recognized?.login;
      const loginSteps = login ? opts.throttle.steps(login) : [];
      const counts = await opts.store.check([
        ipStep(req),
        ...loginSteps,
        ...(recognized ? [userStep(recognized.principal)] : []),
      ]);
      const ip = budget(counts[0]!, 'from this address');
      ipBudgets.set(req, ip);
      admit(res, ip);
      if (failure) throw failure;
      if (!recognized) return next();
      const refusal =
        login && opts.throttle.refusalAt(login, counts.slice(1, 1 + loginSteps.length));
      if (refusal) {
        opts.metrics.rateLimited.inc();
        throw loginRefused(refusal);
      }
      admit(res, ip, budget(counts[1 + loginSteps.length]!, 'for this user'));
      req.user = recognized.principal;
      countedUser.add(req);
      next();
    };
  }

  const perPrincipal: RequestHandler = async (req, res, next) => {
    if (!req.user || countedUser.has(req)) return next();
    const [counted] = await opts.store.check([userStep(req.user)]);
    const user = budget(counted!, 'for this user');
    const ip = ipBudgets.get(req);
    admit(res, ...(ip ? [ip, user] : [user]));
    next();
  };

  return { perRequest, perPrincipal };
}

/**
 * ipKeyGenerator parses every IPv6 address (IPv4-mapped ones too, as a dual-stack listener sees
 * IPv4 clients) with ip-address: about 50 µs, 3% of a request's CPU here. The keys of recent
 * addresses are kept; the map is emptied when full, so rotating addresses cannot grow it.
 */
const ipKeys = new Map<string, string>();
const IP_KEYS_MAX = 10_000;

function ipKey(ip: string): string {
  let key = ipKeys.get(ip);
  if (key === undefined) {
    if (ipKeys.size >= IP_KEYS_MAX) ipKeys.clear();
    key = ipKeyGenerator(ip);
    ipKeys.set(ip, key);
  }
  return key;
}
