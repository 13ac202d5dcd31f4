import type { Harness } from './harness';
import { pendingOrder } from './harness';

/**
 * Orders as the worker leaves them after their last attempt (pending → processing → failed,
 * the failure at `failedAt`), written straight to MySQL: faster than failing each through
 * the worker, and the failure time can be any.
 */
export async function storeFailedOrders(
  h: Harness,
  orderIds: string[],
  customerId: string,
  failedAt: Date,
): Promise<void> {
  const { db, repositories } = h.services;
  await repositories.orders.insertOrders(orderIds.map((id) => pendingOrder(id, customerId)));
  await db.transaction(async (trx) => {
    await trx('orders')
      .whereIn('order_id', orderIds)
      .update({ status: 'failed', version: 3, updated_at: failedAt });
    await trx('order_status_history').insert(
      orderIds.flatMap((order_id) => [
        { order_id, version: 2, status: 'processing', at: failedAt },
        { order_id, version: 3, status: 'failed', at: failedAt },
      ]),
    );
  });
}
