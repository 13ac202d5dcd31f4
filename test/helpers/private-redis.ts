import type { ChildProcess } from 'node:child_process';
import { freePort, startRedis, stop } from './processes';

/** A redis-server of a test's own, which the test may stop and start again (an outage). */
export async function startPrivateRedis() {
  const port = await freePort();
  let redis: ChildProcess = await startRedis(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => stop(redis),
    async start(): Promise<void> {
      redis = await startRedis(port);
    },
    /** Started again if a test left it down, so whatever uses it can shut down cleanly. */
    async ensureRunning(): Promise<void> {
      if (redis.exitCode !== null || redis.signalCode !== null) redis = await startRedis(port);
    },
  };
}

export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
