import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

const OUTAGE_MS = 20_000;

/**
 * Two of three nodes die: the survivor has no quorum and answers every query with ERROR 1047
 * (WSREP has not yet prepared node for application use). The service must answer 503, not
 * 500, and come back on its own once the operator has re-bootstrapped the survivor
 * (pc.bootstrap, the documented procedure: the dead nodes cannot restore quorum by rejoining)
 * and the other two have rejoined.
 */
export const galeraQuorumLoss: Scenario = {
  name: 'galera-quorum-loss',
  description: 'Galera nodes 2 and 3 SIGKILLed (node 1, used by api and worker, loses quorum)',
  needs: 'galera',
  allow: { unavailable: true },
  async run(ctx) {
    const g = ctx.galera;
    const url = g.node(1).url(ctx.database);
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1', databaseUrl: url },
      { role: 'worker', name: 'worker-1', databaseUrl: url },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault(
      `SIGKILL nodes 2 and 3 for ${OUTAGE_MS / 1000} s, re-bootstrap node 1, rejoin`,
      async () => {
        await Promise.all([g.kill(2), g.kill(3)]);
        await sleep(OUTAGE_MS);
        const status = await g.status(1);
        ctx.log(`node 1 after the loss: ${JSON.stringify(status)}`);
        if (status.clusterStatus !== 'Primary') {
          await g.query(1, "SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'");
        }
        await Promise.all([g.restart(2, 120_000), g.restart(3, 120_000)]);
      },
    );
    await sleep(AFTER_FAULT_MS);
  },
};
