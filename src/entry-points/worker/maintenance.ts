import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';
import { runWithContext } from '../../lib/request-context';
import { isOutageError } from '../../data-access/redis';

export const MAINTENANCE_QUEUE = 'maintenance';
const RECONCILE_EVERY_MS = 30_000;
const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * The reconciler and the retention purge as BullMQ job schedulers: upserted at every start
 * (safe to repeat), run by one worker at a time whichever pod it is on.
 */
export function createMaintenance(deps: {
  connection: Redis;
  prefix: string;
  /** Enqueues orders unfinished for longer than staleAfterMs (its default when omitted). */
  reconcileOrders: (staleAfterMs?: number) => Promise<number>;
  purgeOrders: () => Promise<unknown>;
  logger: Logger;
}) {
  // By name: a job this version does not know (an older or newer pod's) must not run the purge.
  const jobs: Record<string, () => Promise<unknown>> = {
    'reconcile-orders': () => deps.reconcileOrders(),
    'purge-orders': () => deps.purgeOrders(),
  };
  const queue = new Queue(MAINTENANCE_QUEUE, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions: { removeOnComplete: 100, removeOnFail: 100 },
  });
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    (job) =>
      runWithContext({ job_id: job.id }, async () => {
        const run = Object.hasOwn(jobs, job.name) ? jobs[job.name] : undefined;
        if (!run) throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
        return run();
      }),
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1, autorun: false },
  );
  // Outages are in the producer's reconnect line already.
  const warn = (message: string) => (err: Error) => {
    if (!isOutageError(err, deps.connection)) deps.logger.warn(message, { error: err.message });
  };
  worker.on('error', warn('maintenance worker error'));
  queue.on('error', warn('maintenance queue error'));
  worker.on('failed', (job, err) =>
    deps.logger.warn('maintenance job failed', { job: job?.name, error: err.message }),
  );

  // Present as long as Redis keeps its data. Missing means a new or emptied Redis (a restart
  // without persistence): every queued job may be gone, so every unfinished order is enqueued
  // again at once rather than once it looks stale (30 s later, every 30 s).
  const marker = `${deps.prefix}:data-marker`;

  async function schedule(): Promise<void> {
    const emptied = (await deps.connection.set(marker, new Date().toISOString(), 'NX')) === 'OK';
    if (emptied) deps.logger.info('redis has no data marker: reconciling every unfinished order');
    await queue.upsertJobScheduler(
      'reconcile-orders',
      { every: RECONCILE_EVERY_MS },
      { name: 'reconcile-orders' },
    );
    await queue.upsertJobScheduler(
      'purge-orders',
      { every: PURGE_EVERY_MS },
      { name: 'purge-orders' },
    );
    // Orders left behind while no worker ran (or Redis was away) are picked up now.
    await deps
      .reconcileOrders(emptied ? 0 : undefined)
      .catch((err: Error) => deps.logger.warn('reconcile failed', { error: err.message }));
  }

  async function start(): Promise<void> {
    await schedule();
    void worker.run();
    // A Redis restart without persistence forgets the schedulers and every queued job:
    // schedule again and reconcile on each reconnect.
    deps.connection.on('ready', () => {
      schedule().catch((err: Error) =>
        deps.logger.warn('re-scheduling failed', { error: err.message }),
      );
    });
  }

  return { queue, worker, start };
}
