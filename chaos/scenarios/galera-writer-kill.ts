import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep, startHaproxy } from '../servers';

/**
 * The single writer behind HAProxy dies: HAProxy moves new connections to a backup node once
 * two health checks failed, and when node 1 is back cuts the sessions on the backup, so the
 * service sees its connections break twice.
 */
export const galeraWriterKill: Scenario = {
  name: 'galera-writer-kill',
  description: 'the writer node behind HAProxy (one writer, two backups) SIGKILLed, rejoined',
  needs: 'galera',
  allow: { unavailable: true },
  async run(ctx) {
    const g = ctx.galera;
    const haproxy = await startHaproxy(g);
    ctx.defer(() => haproxy.stop());
    const url = haproxy.url(ctx.database);
    ctx.verifyUrl = g.node(2).url(ctx.database);
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1', databaseUrl: url },
      { role: 'worker', name: 'worker-1', databaseUrl: url },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault(
      'SIGKILL node 1 (the writer), restart it after 5 s, wait until synced',
      async () => {
        await g.kill(1);
        await sleep(5000);
        await g.restart(1, 90_000);
      },
    );
    await sleep(AFTER_FAULT_MS);
  },
};
