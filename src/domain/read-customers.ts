import { AppError } from '../lib/app-error';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { CustomerRepository } from '../data-access/customer-repository';
import type { Principal } from './principal';

/** Customers read only their own items and summary (403 otherwise); managers read all. */
function assertMayRead(principal: Principal, customerId: string): void {
  if (principal.role === 'customer' && principal.customerId !== customerId) {
    throw new AppError('forbidden', 'Customers may only read their own purchases.');
  }
}

export function createReadCustomers(deps: { customers: CustomerRepository }) {
  async function listItems(
    principal: Principal,
    customerId: string,
    limit: number,
    cursor?: string,
  ) {
    assertMayRead(principal, customerId);
    const after = cursor ? decodeCursor(cursor, 2) : undefined;
    const [data, summary] = await Promise.all([
      deps.customers.listItems(customerId, limit, after && { sku: after[0]!, currency: after[1]! }),
      after ? undefined : deps.customers.findSummary(customerId),
    ]);
    // findSummary answers for every customer with orders, so none means "no orders".
    if (!after && !summary)
      throw new AppError('not-found', `Customer ${customerId} has no orders.`);
    const last = data.at(-1);
    const next_cursor =
      data.length === limit && last ? encodeCursor([last.sku, last.currency]) : null;
    return { customer_id: customerId, data, next_cursor };
  }

  async function getSummary(principal: Principal, customerId: string) {
    assertMayRead(principal, customerId);
    const summary = await deps.customers.findSummary(customerId);
    if (!summary) throw new AppError('not-found', `Customer ${customerId} has no orders.`);
    return summary;
  }

  async function listSummaries(principal: Principal, limit: number, cursor?: string) {
    if (principal.role !== 'manager') {
      throw new AppError('forbidden', 'Only managers may list all customers.');
    }
    const after = cursor ? decodeCursor(cursor, 1)[0] : undefined;
    const data = await deps.customers.listSummaries(limit, after);
    const last = data.at(-1);
    const next_cursor = data.length === limit && last ? encodeCursor([last.customer_id]) : null;
    return { data, next_cursor };
  }

  return { listItems, getSummary, listSummaries };
}
