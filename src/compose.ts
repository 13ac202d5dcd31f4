import type { Config } from './config';
import type { Logger } from './lib/logger';
import type { ShutdownStep } from './lib/shutdown';
import { registerRuntimeGauges } from './lib/runtime-gauges';
import { ensureManager } from './domain/manage-users';
import { createHealthApp } from './entry-points/api/app';
import { composeCore, CoreOptions } from './composition/core';
import { composeApi, ApiOptions } from './composition/api';
import { composeWorker, WorkerOptions } from './composition/worker';

export type ComposeOptions = CoreOptions & ApiOptions & WorkerOptions;
export type ServingRole = 'all' | 'api' | 'worker';

/**
 * The composition root of a serving role (config.role): `api` builds the HTTP API, `worker`
 * the BullMQ workers and a probes-only HTTP app, `all` both, on one shared core. main.ts and
 * the tests start what this returns and stop it with `shutdownSteps`.
 */
export function compose(config: Readonly<Config>, logger: Logger, options: ComposeOptions = {}) {
  const role = config.role;
  if (role !== 'all' && role !== 'api' && role !== 'worker') {
    throw new Error(`compose: ${role} is not a serving role`);
  }
  const core = composeCore(config, logger, options);
  const api = role === 'worker' ? undefined : composeApi(core, options);
  const worker = role === 'api' ? undefined : composeWorker(core, options);
  registerRuntimeGauges({
    metrics: core.metrics,
    db: core.db,
    redis: worker ? { producer: core.redis, worker: worker.connection } : { producer: core.redis },
    readiness: core.readiness,
  });

  return {
    ...core,
    role,
    api,
    worker,
    /** What the role serves on PORT: the API, or the worker's probes. */
    app: api?.app ?? createHealthApp(core.readiness),

    /**
     * Once MySQL answers: the admin user, the durability check, readiness "ok", then (worker,
     * all) the BullMQ workers.
     */
    async start(): Promise<void> {
      if (config.admin) {
        const saved = await ensureManager(core.repositories.users, config.admin);
        logger.info('admin user ensured', { username: config.admin.username, saved });
      }
      await core.checkDurability();
      core.readiness.markStarted();
      if (worker) {
        await worker.start();
        logger.info('worker started');
      }
    },

    /**
     * Every step of a shutdown, in order: readiness turns "draining" at once, then `http` (the
     * listener's drain, from main.ts), the workers, queues, probes, connections, and `last`.
     */
    shutdownSteps(http: ShutdownStep[] = [], last: ShutdownStep[] = []): ShutdownStep[] {
      return [
        { name: 'readiness', run: async () => core.readiness.startDraining() },
        ...(api?.drainSteps ?? []),
        ...http,
        ...(worker?.shutdownSteps ?? []),
        ...core.shutdownSteps,
        ...(api?.shutdownSteps ?? []),
        ...last,
      ];
    },
  };
}

export type Services = ReturnType<typeof compose>;
