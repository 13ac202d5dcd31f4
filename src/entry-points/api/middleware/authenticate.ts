import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Passport, Strategy } from 'passport';
import { BasicStrategy } from 'passport-http';
import { AppError } from '../../../lib/app-error';
import type { Metrics } from '../../../lib/metrics';
import type { Authentication, Credentials } from '../../../domain/authentication';
import type { Principal } from '../../../domain/principal';
import { looksLikeApiKey } from '../../../domain/api-key';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends Principal {}
  }
}

export const CHALLENGE = 'Basic realm="order-service", Bearer';

/**
 * An API key, as `Authorization: Bearer osk_…` or, when there is no Authorization header,
 * `X-API-Key: osk_…`. Anything in X-API-Key is judged as a key, so a typo there is a failed
 * authentication, not an anonymous request.
 */
function readApiKey(req: Request): string | undefined {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  if (scheme?.toLowerCase() === 'bearer' && token && looksLikeApiKey(token)) return token;
  if (req.headers.authorization !== undefined) return undefined;
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * The credentials of the Authorization (or X-API-Key) header, read exactly as the strategies
 * below read them (passport-http's Basic takes the text between the first and second colon as
 * the password), so cached Basic credentials are recognized only as passport verified them.
 */
export function readCredentials(req: Request): Credentials | undefined {
  const key = readApiKey(req);
  if (key !== undefined) return { scheme: 'api-key', key };
  const [scheme, value] = (req.headers.authorization ?? '').split(' ');
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return { scheme: 'bearer', token: value };
  if (!/Basic/i.test(scheme)) return undefined;
  const [username, password] = Buffer.from(value, 'base64').toString().split(':');
  return username && password ? { scheme: 'basic', username, password } : undefined;
}

/** `Authorization: Bearer <JWT>`: our own HS256 tokens or an external provider's. */
function bearerStrategy(auth: Authentication): Strategy {
  return {
    name: 'bearer',
    authenticate(req: Request) {
      const [scheme, token] = (req.headers.authorization ?? '').split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !token || looksLikeApiKey(token)) {
        return this.fail('Bearer', 401);
      }
      auth.verifyToken(token, req.ip ?? '').then(
        (principal) => (principal ? this.success(principal) : this.fail('Bearer', 401)),
        (err: Error) => this.error(err),
      );
    },
  };
}

/** An API key (`readApiKey`). */
function apiKeyStrategy(auth: Authentication): Strategy {
  return {
    name: 'api-key',
    authenticate(req: Request) {
      const key = readApiKey(req);
      if (key === undefined) return this.fail('Bearer', 401);
      auth.verifyApiKey(key, req.ip ?? '').then(
        (principal) => (principal ? this.success(principal) : this.fail('Bearer', 401)),
        (err: Error) => this.error(err),
      );
    },
  };
}

/**
 * Basic (users table), Bearer (JWT) or an API key. Failures become one 401 problem with both
 * challenges; the authenticated principal is `req.user`. A request the rate limiter already
 * recognized (a token, an API key, or cached Basic credentials with the failed-login limits
 * checked) passes as is.
 */
export function createAuthenticate(auth: Authentication, metrics: Metrics): RequestHandler {
  const passport = new Passport();
  passport.use(
    new BasicStrategy({ passReqToCallback: true }, (req, username, password, done) => {
      auth
        .verifyPassword(username, password, req.ip ?? '')
        .then((p) => done(null, p ?? false), done);
    }),
  );
  passport.use(bearerStrategy(auth));
  passport.use(apiKeyStrategy(auth));

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.user) return next();
    passport.authenticate(
      ['basic', 'bearer', 'api-key'],
      { session: false },
      (err: unknown, user: Principal | false) => {
        if (err) return next(err);
        if (!user) {
          const scheme = (req.headers.authorization ?? '').split(' ')[0]?.toLowerCase();
          metrics.authFailures.inc({
            method: readApiKey(req)
              ? 'api_key'
              : scheme === 'basic' || scheme === 'bearer'
                ? scheme
                : 'none',
          });
          return next(
            new AppError(
              'unauthenticated',
              'Valid Basic credentials, a Bearer token or an API key are required.',
              {
                headers: { 'WWW-Authenticate': CHALLENGE },
              },
            ),
          );
        }
        req.user = user;
        next();
      },
    )(req, res, next);
  };
}
