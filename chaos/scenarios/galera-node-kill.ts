import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/**
 * A member dies without a goodbye: the others stall writes until they declare it gone (a few
 * seconds), then go on as a cluster of two; the node rejoins by state transfer. The api and
 * the worker use the two surviving nodes directly.
 */
export const galeraNodeKill: Scenario = {
  name: 'galera-node-kill',
  description:
    'Galera node 2 of 3 SIGKILLed under load (api on node 1, worker on node 3), rejoined',
  needs: 'galera',
  allow: { unavailable: true },
  async run(ctx) {
    const g = ctx.galera;
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1', databaseUrl: g.node(1).url(ctx.database) },
      { role: 'worker', name: 'worker-1', databaseUrl: g.node(3).url(ctx.database) },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault(
      'SIGKILL node 2, restart it after 5 s and wait until it is synced',
      async () => {
        await g.kill(2);
        await sleep(5000);
        await g.restart(2, 90_000);
      },
    );
    await sleep(AFTER_FAULT_MS);
  },
};
