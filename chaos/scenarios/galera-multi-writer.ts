import { Scenario } from '../scenario';
import { sleep } from '../servers';

const LOAD_MS = 15_000;

/**
 * Every node takes writes for the same four customers: order inserts through two api
 * processes, completions (and so read-model updates) through two workers, each on its own
 * node. Certification conflicts surface at COMMIT and must be retried whole, never applied
 * twice or dropped.
 */
export const galeraMultiWriter: Scenario = {
  name: 'galera-multi-writer',
  description: 'api on nodes 1 and 2, workers on nodes 3 and 1, same customers (conflicts)',
  needs: 'galera',
  allow: {},
  async run(ctx) {
    const g = ctx.galera;
    const db = (n: number) => g.node(n).url(ctx.database);
    const [api1, api2] = await ctx.startAll([
      { role: 'api', name: 'api-1', databaseUrl: db(1) },
      { role: 'api', name: 'api-2', databaseUrl: db(2) },
      { role: 'worker', name: 'worker-1', databaseUrl: db(3) },
      { role: 'worker', name: 'worker-2', databaseUrl: db(1) },
    ]);
    ctx.startLoad(() => [api1!.url, api2!.url]);
    // No fault: recovery is how long the backlog takes to drain once the load stops.
    await ctx.fault(`${LOAD_MS / 1000} s of load through both api processes`, () => sleep(LOAD_MS));
  },
};
