import { Router } from 'express';
import type { createReadCustomers } from '../../../domain/read-customers';

interface PageQuery {
  limit?: number;
  cursor?: string;
}

export function customersRouter(
  readCustomers: ReturnType<typeof createReadCustomers>,
  defaultLimit: number,
): Router {
  const router = Router();

  router.get('/customers/summaries', async (req, res) => {
    const { limit, cursor } = req.query as PageQuery;
    res.json(await readCustomers.listSummaries(req.user!, Number(limit ?? defaultLimit), cursor));
  });

  router.get('/customers/:customer_id/items', async (req, res) => {
    const { limit, cursor } = req.query as PageQuery;
    res.json(
      await readCustomers.listItems(
        req.user!,
        req.params.customer_id!,
        Number(limit ?? defaultLimit),
        cursor,
      ),
    );
  });

  router.get('/customers/:customer_id/summary', async (req, res) => {
    res.json(await readCustomers.getSummary(req.user!, req.params.customer_id!));
  });

  return router;
}
