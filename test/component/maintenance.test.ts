import { Job } from 'bullmq';
import { transition } from '../../src/domain/order';
import { createMaintenance } from '../../src/entry-points/worker/maintenance';
import { Harness, pendingOrder, startHarness, waitUntil } from '../helpers/harness';

const DAY = 24 * 60 * 60 * 1000;

let h: Harness;
let maintenance: ReturnType<typeof createMaintenance>;
beforeAll(async () => {
  h = await startHarness({ ORDER_RETENTION_DAYS: '30' });
  const { worker } = h.roles;
  // The maintenance worker without its schedulers: only the jobs a test adds run.
  maintenance = createMaintenance({
    connection: worker.connection,
    prefix: h.prefix,
    reconcileOrders: worker.useCases.reconcileOrders,
    purgeOrders: worker.useCases.purgeOrders,
    logger: h.services.logger,
  });
  void maintenance.worker.run();
});
afterAll(async () => {
  await maintenance.worker.close();
  await maintenance.queue.obliterate({ force: true });
  await maintenance.queue.close();
  await h.stop();
});

async function finishedState(name: string): Promise<string> {
  const { id } = await maintenance.queue.add(name, {});
  return waitUntil(
    async () => {
      const state = await (await Job.fromId(maintenance.queue, id!))!.getState();
      return (state === 'completed' || state === 'failed') && state;
    },
    { what: `maintenance job ${name} to finish` },
  );
}

async function insertOldFinishedOrder(id: string): Promise<void> {
  const { orders } = h.services.repositories;
  await orders.insertOrders([
    { ...pendingOrder(id, 'c-maint'), created_at: new Date(Date.now() - 40 * DAY) },
  ]);
  await orders.transition(id, transition('pending', 'processing'));
  await orders.transition(id, transition('processing', 'completed'));
}

const stored = async (id: string) =>
  (await h.services.db('orders').where('order_id', id)).length === 1;

describe('maintenance jobs', () => {
  it('fails a job with an unknown name and purges nothing', async () => {
    await insertOldFinishedOrder('maint-unknown');

    const state = await finishedState('purge-everything');

    expect(await stored('maint-unknown')).toBe(true);
    expect(state).toBe('failed');
    expect(h.logs.join('')).toContain('unknown maintenance job purge-everything');
  });

  it('runs the retention purge for a purge-orders job', async () => {
    await insertOldFinishedOrder('maint-purge');

    expect(await finishedState('purge-orders')).toBe('completed');

    expect(await stored('maint-purge')).toBe(false);
  });
});
