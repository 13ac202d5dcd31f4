import { Router } from 'express';
import type { ManageWebhooks, NewEndpoint } from '../../../domain/manage-webhooks';

/** Thin: the OpenAPI validator has checked the shapes; the use case checks the role and URL. */
export function webhooksRouter(webhooks: ManageWebhooks, defaultLimit: number): Router {
  const router = Router();

  router.post('/webhooks', async (req, res) => {
    const endpoint = await webhooks.createEndpoint(req.user!, req.body as NewEndpoint);
    res.location(`/webhooks/${endpoint.id}`);
    res.status(201).json(endpoint);
  });

  router.get('/webhooks', async (req, res) => {
    res.json(await webhooks.listEndpoints(req.user!));
  });

  router.get('/webhooks/:id', async (req, res) => {
    res.json(await webhooks.getEndpoint(req.user!, req.params.id!));
  });

  router.delete('/webhooks/:id', async (req, res) => {
    await webhooks.deleteEndpoint(req.user!, req.params.id!);
    res.status(204).end();
  });

  router.post('/webhooks/:id/rotate-secret', async (req, res) => {
    res.json(await webhooks.rotateSecret(req.user!, req.params.id!));
  });

  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const q = req.query as { limit?: number; cursor?: string };
    res.json(
      await webhooks.listDeliveries(req.user!, req.params.id!, {
        limit: Number(q.limit ?? defaultLimit),
        cursor: q.cursor,
      }),
    );
  });

  router.post('/webhooks/:id/deliveries/:delivery_id/redeliver', async (req, res) => {
    res
      .status(202)
      .json(await webhooks.redeliver(req.user!, req.params.id!, req.params.delivery_id!));
  });

  return router;
}
