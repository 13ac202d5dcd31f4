import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/** A stalled MySQL (SIGSTOP): connections stay open and queries hang, nothing is refused. */
export const mysqlPause: Scenario = {
  name: 'mysql-pause',
  description: 'MySQL paused (SIGSTOP) for 20 s with jobs waiting, while orders flow',
  needs: 'mysql',
  allow: { unavailable: true },
  async run(ctx) {
    const [api, worker] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    const resume = await ctx.buildBacklog(worker!);
    await ctx.fault('SIGSTOP mariadbd for 20 s with a backlog', async () => {
      ctx.mysql.pause();
      resume();
      await sleep(20_000);
      ctx.mysql.resume();
    });
    await sleep(AFTER_FAULT_MS);
  },
};
