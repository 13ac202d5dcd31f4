import { Router } from 'express';
import { AppError } from '../../../lib/app-error';
import { Authentication, TOKEN_TTL_SECONDS } from '../../../domain/authentication';
import { CHALLENGE } from '../middleware/authenticate';

export function authRouter(auth: Authentication): Router {
  const router = Router();
  router.post('/auth/token', async (req, res) => {
    // Tokens are issued for Basic credentials only: a token cannot mint a fresh token.
    if (!/^basic /i.test(req.get('authorization') ?? '')) {
      throw new AppError('unauthenticated', 'POST /auth/token takes Basic credentials.', {
        headers: { 'WWW-Authenticate': CHALLENGE },
      });
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      access_token: await auth.issueToken(req.user!),
      token_type: 'Bearer',
      expires_in: TOKEN_TTL_SECONDS,
    });
  });
  return router;
}
