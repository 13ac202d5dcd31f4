import { Router, Response } from 'express';
import { AppError } from '../../../lib/app-error';
import type { Order, OrderInput, OrderStatus } from '../../../domain/order';
import type { createPlaceOrders } from '../../../domain/place-orders';
import type { createReadOrders } from '../../../domain/read-orders';
import type { createCancelOrder } from '../../../domain/cancel-order';
import type { RetryOrders } from '../../../domain/retry-orders';

export interface OrdersRouterDeps {
  placeOrders: ReturnType<typeof createPlaceOrders>;
  readOrders: ReturnType<typeof createReadOrders>;
  cancelOrder: ReturnType<typeof createCancelOrder>;
  retryOrders: RetryOrders;
}

interface RetryFilterBody {
  status: 'failed';
  failed_since: string;
  failed_before?: string;
  customer_id?: string;
  /** The validator fills in the document's default. */
  limit: number;
}

/** Thin: the OpenAPI validator has checked the shapes; the use cases do the rest. */
export function ordersRouter(deps: OrdersRouterDeps, defaultLimit: number): Router {
  const router = Router();

  router.post('/orders', async (req, res) => {
    const batch = Array.isArray(req.body);
    const { orders, replayed } = await deps.placeOrders(req.user!, {
      inputs: (batch ? req.body : [req.body]) as OrderInput[],
      batch,
      idempotencyKey: req.get('idempotency-key'),
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    if (batch) {
      res.status(201).json({ data: orders });
      return;
    }
    const order = orders[0]!;
    res.location(`/orders/${encodeURIComponent(order.order_id)}`);
    setEtag(res, order);
    res.status(201).json(order);
  });

  router.get('/orders', async (req, res) => {
    const q = req.query as {
      customer_id?: string;
      status?: OrderStatus;
      limit?: number;
      cursor?: string;
    };
    res.json(
      await deps.readOrders.listOrders(req.user!, { ...q, limit: Number(q.limit ?? defaultLimit) }),
    );
  });

  router.get('/orders/:order_id', async (req, res) => {
    const order = await deps.readOrders.getOrder(req.user!, req.params.order_id!);
    setEtag(res, order);
    res.json(order);
  });

  router.post('/orders/:order_id/cancel', async (req, res) => {
    const order = await deps.cancelOrder(
      req.user!,
      req.params.order_id!,
      ifMatchVersion(req.get('if-match')),
    );
    setEtag(res, order);
    res.json(order);
  });

  router.post('/orders/retry', async (req, res) => {
    const body = req.body as RetryFilterBody;
    const result = await deps.retryOrders.retryFailedOrders(req.user!, {
      failedSince: timeOf(body.failed_since, '/failed_since'),
      failedBefore:
        body.failed_before === undefined ? undefined : timeOf(body.failed_before, '/failed_before'),
      customerId: body.customer_id,
      limit: body.limit,
    });
    res.status(202).json({
      count: result.count,
      more: result.more,
      failed_before: result.failedBefore,
    });
  });

  router.post('/orders/:order_id/retry', async (req, res) => {
    const order = await deps.retryOrders.retryOrder(req.user!, req.params.order_id!);
    setEtag(res, order);
    res.json(order);
  });

  return router;
}

function setEtag(res: Response, order: Pick<Order, 'version'>): void {
  res.setHeader('ETag', `"${order.version}"`);
}

/** A date-time the schema accepted; a leap second (`23:59:60`) is one JavaScript cannot hold. */
function timeOf(value: string, path: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw new AppError('validation', `The request is invalid: ${path} is not a readable time.`, {
      errors: [{ path, message: 'is not a readable time' }],
    });
  }
  return at;
}

/** `If-Match: "3"` (or W/"3") → 3; `*` → no condition; anything else can never match. */
function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  if (!match) {
    throw new AppError(
      'precondition-failed',
      'If-Match must be an ETag this API returned, like "3".',
    );
  }
  return Number(match[1]);
}
