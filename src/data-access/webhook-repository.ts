import type { Knex } from 'knex';
import { withTransaction } from './transaction';
import { createSecretBox, SecretBox } from '../lib/secret-box';
import type {
  DeliveryStatus,
  EndpointStatus,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
} from '../domain/webhook';
import type { EventType } from '../domain/order-event';

type EndpointRow = Omit<WebhookEndpoint, 'events'> & { events: string };

/** Secrets are sealed with `box` (when it has a key) before they are stored. */
export function createWebhookRepository(db: Knex, box: SecretBox = createSecretBox(undefined)) {
  function toEndpoint(row: EndpointRow): WebhookEndpoint {
    return {
      ...row,
      events: JSON.parse(row.events) as EventType[],
      secret: box.open(row.secret, row.endpoint_id),
      previous_secret: row.previous_secret && box.open(row.previous_secret, row.endpoint_id),
    };
  }

  const endpoints = () => db<EndpointRow>('webhook_endpoints');
  const deliveries = () => db<WebhookDelivery>('webhook_deliveries');
  const attempts = () => db<WebhookAttempt>('webhook_attempts');

  return {
    async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
      await endpoints().insert({
        ...endpoint,
        events: JSON.stringify(endpoint.events),
        secret: box.seal(endpoint.secret, endpoint.endpoint_id),
        previous_secret: null,
      });
    },

    async findEndpoint(endpointId: string): Promise<WebhookEndpoint | undefined> {
      const row = await endpoints().where('endpoint_id', endpointId).first();
      return row && toEndpoint(row);
    },

    async listEndpoints(): Promise<WebhookEndpoint[]> {
      const rows = await endpoints().orderBy([{ column: 'created_at' }, { column: 'endpoint_id' }]);
      return rows.map(toEndpoint);
    },

    /** The endpoint, its deliveries and their attempts, in one transaction. */
    async deleteEndpoint(endpointId: string): Promise<boolean> {
      return withTransaction(db, async (trx) => {
        const ids = trx('webhook_deliveries')
          .select('delivery_id')
          .where('endpoint_id', endpointId);
        await trx('webhook_attempts').whereIn('delivery_id', ids).delete();
        await trx('webhook_deliveries').where('endpoint_id', endpointId).delete();
        return (await trx('webhook_endpoints').where('endpoint_id', endpointId).delete()) > 0;
      });
    },

    async rotateSecret(
      endpointId: string,
      secret: string,
      previousExpiresAt: Date,
      now: Date,
    ): Promise<void> {
      await endpoints()
        .where('endpoint_id', endpointId)
        .update({
          previous_secret: db.ref('secret') as unknown as string,
          previous_secret_expires_at: previousExpiresAt,
          secret: box.seal(secret, endpointId),
          updated_at: now,
        });
    },

    async setEndpointStatus(endpointId: string, status: EndpointStatus, now: Date): Promise<void> {
      await endpoints()
        .where('endpoint_id', endpointId)
        .whereNot('status', status)
        .update({ status, failing_since: status === 'failing' ? now : null, updated_at: now });
    },

    async countEndpointsByStatus(): Promise<Record<EndpointStatus, number>> {
      const rows = (await endpoints().select('status').count({ n: '*' }).groupBy('status')) as {
        status: EndpointStatus;
        n: number | string;
      }[];
      const counts: Record<EndpointStatus, number> = { active: 0, failing: 0 };
      for (const r of rows) counts[r.status] = Number(r.n);
      return counts;
    },

    /** Ids that exist already are left as they are: the delivery of a re-published event. */
    async insertDeliveries(rows: WebhookDelivery[]): Promise<void> {
      if (rows.length > 0) await deliveries().insert(rows).onConflict('delivery_id').ignore();
    },

    async findDelivery(deliveryId: string): Promise<WebhookDelivery | undefined> {
      return deliveries().where('delivery_id', deliveryId).first();
    },

    async listDeliveries(
      endpointId: string,
      limit: number,
      after?: { createdAt: Date; deliveryId: string },
    ): Promise<WebhookDelivery[]> {
      const q = deliveries()
        .where('endpoint_id', endpointId)
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'delivery_id', order: 'desc' },
        ])
        .limit(limit);
      if (after) {
        void q.andWhere((w) =>
          w
            .where('created_at', '<', after.createdAt)
            .orWhere((x) =>
              x.where('created_at', after.createdAt).andWhere('delivery_id', '<', after.deliveryId),
            ),
        );
      }
      return q;
    },

    async attemptsOf(deliveryIds: string[]): Promise<WebhookAttempt[]> {
      if (deliveryIds.length === 0) return [];
      return attempts().whereIn('delivery_id', deliveryIds).orderBy(['delivery_id', 'attempt']);
    },

    /** Numbers the attempt (redeliveries continue the count) and records it with the outcome. */
    async recordAttempt(
      attempt: Omit<WebhookAttempt, 'attempt'>,
      status: DeliveryStatus,
    ): Promise<number> {
      // Galera may abort either at COMMIT (1213): run it again rather than lose the attempt.
      return withTransaction(db, async (trx) => {
        await trx('webhook_deliveries')
          .where('delivery_id', attempt.delivery_id)
          .update({ attempts: trx.raw('attempts + 1'), status, updated_at: attempt.finished_at });
        const row = (await trx('webhook_deliveries')
          .select('attempts')
          .where('delivery_id', attempt.delivery_id)
          .first()) as { attempts: number } | undefined;
        const number = row?.attempts ?? 1;
        if (row) await trx('webhook_attempts').insert({ ...attempt, attempt: number });
        return number;
      });
    },

    async setDeliveryStatus(deliveryId: string, status: DeliveryStatus, now: Date): Promise<void> {
      await deliveries().where('delivery_id', deliveryId).update({ status, updated_at: now });
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
