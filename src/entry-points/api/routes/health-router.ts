import { Router } from 'express';
import type { Readiness } from '../../../lib/readiness';

/** Kubernetes probes: mounted before the rate limiter, so a busy pod is never killed for it. */
export function healthRouter(readiness: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const { ready, body } = readiness.report();
    res.status(ready ? 200 : 503).json(body);
  });
  return router;
}
