import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/** A stalled Redis (SIGSTOP) keeps its sockets open: only timeouts notice it. */
export const redisPause: Scenario = {
  name: 'redis-pause',
  description: 'Redis paused (SIGSTOP) for 20 s while orders flow',
  needs: 'mysql',
  allow: { unavailable: true },
  async run(ctx) {
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault('SIGSTOP redis-server for 20 s', async () => {
      ctx.redis.pause();
      await sleep(20_000);
      ctx.redis.resume();
    });
    await sleep(AFTER_FAULT_MS);
  },
};
