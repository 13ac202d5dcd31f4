import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Passport, Strategy } from 'passport';
import { BasicStrategy } from 'passport-http';
import { AppError } from '../../../lib/app-error';
import type { Metrics } from '../../../lib/metrics';
import type { Authentication, Credentials } from '../../../domain/authentication';
import type { Principal } from '../../../domain/principal';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends Principal {}
  }
}

export const CHALLENGE = 'Basic realm="order-service", Bearer';

/**
 * The credentials of the Authorization header, read exactly as the strategies below read them
 * (passport-http's Basic takes the text between the first and second colon as the password),
 * so cached Basic credentials are recognized only as passport verified them.
 */
export function readCredentials(req: Request): Credentials | undefined {
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
      if (scheme?.toLowerCase() !== 'bearer' || !token) return this.fail('Bearer', 401);
      auth.verifyToken(token, req.ip ?? '').then(
        (principal) => (principal ? this.success(principal) : this.fail('Bearer', 401)),
        (err: Error) => this.error(err),
      );
    },
  };
}

/**
 * Basic (users table) or Bearer (JWT). Failures become one 401 problem with both challenges;
 * the authenticated principal is `req.user`. A request the rate limiter already recognized
 * (a token, or cached Basic credentials, with the failed-login limits checked) passes as is.
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

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.user) return next();
    passport.authenticate(
      ['basic', 'bearer'],
      { session: false },
      (err: unknown, user: Principal | false) => {
        if (err) return next(err);
        if (!user) {
          const scheme = (req.headers.authorization ?? '').split(' ')[0]?.toLowerCase();
          metrics.authFailures.inc({
            method: scheme === 'basic' || scheme === 'bearer' ? scheme : 'none',
          });
          return next(
            new AppError(
              'unauthenticated',
              'Valid Basic credentials or a Bearer token are required.',
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
