import { Router } from 'express';
import type { ApiKeyInput, ManageApiKeys } from '../../../domain/manage-api-keys';

/** Thin: the OpenAPI validator has checked the shapes; the use cases do the rest. */
export function apiKeysRouter(manage: ManageApiKeys, defaultLimit: number): Router {
  const router = Router();

  router.post('/api-keys', async (req, res) => {
    res.status(201).json(await manage.createApiKey(req.user!, req.body as ApiKeyInput));
  });

  router.get('/api-keys', async (req, res) => {
    const q = req.query as { limit?: number; cursor?: string };
    res.json(
      await manage.listApiKeys(req.user!, {
        limit: Number(q.limit ?? defaultLimit),
        cursor: q.cursor,
      }),
    );
  });

  router.delete('/api-keys/:id', async (req, res) => {
    await manage.revokeApiKey(req.user!, req.params.id!);
    res.status(204).end();
  });

  return router;
}
