import { ConfigError, loadConfig, Config, Role } from './config';
import { compose } from './compose';
import { createLogger, Logger } from './lib/logger';
import { createShutdown } from './lib/shutdown';
import { waitFor } from './lib/wait-for';
import { EX_CONFIG, exitOnListenError, exitOnUncaughtErrors } from './lib/fatal-errors';
import { createDb, ensureDatabase, Db } from './data-access/db';
import { migrationConfig } from './data-access/migrations';
import { isDatabaseAccessDenied } from './data-access/mysql-errors';
import { createUserRepository } from './data-access/user-repository';
import { createMetricsServer } from './entry-points/metrics-server';
import { createHttpServer } from './entry-points/http-server';
import { trackForDrain } from './entry-points/http-drain';
import { usersCommand, USERS_USAGE } from './entry-points/cli/users-command';

const ROLES: Role[] = ['all', 'api', 'worker', 'migrate', 'users'];
const EX_USAGE = 64;
/** As podinfo: readiness fails at once, the listener closes 3 s later. */
const DRAIN_PAUSE_MS = 3000;

async function main(argv: string[]): Promise<void> {
  const [role, ...rest] = argv as [Role | undefined, ...string[]];
  if (!role || !ROLES.includes(role)) {
    console.error(`usage: main.js all|api|worker|migrate\n       ${USERS_USAGE}`);
    process.exit(EX_USAGE);
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(role);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`order-service: invalid configuration: ${err.message}`);
    process.exit(EX_CONFIG);
  }
  const logger = createLogger(config.logLevel);
  exitOnUncaughtErrors(logger);

  if (role === 'migrate') return runOnce(config, logger, (db) => migrate(config, db, logger));
  if (role === 'users') {
    return runOnce(config, logger, async (db) => {
      console.log(await usersCommand(rest, createUserRepository(db), process.stdin));
    });
  }
  await serve(config, logger);
}

/** Short-lived roles: run against MySQL, close, exit 0, or print one line and exit 1. */
async function runOnce(config: Config, logger: Logger, work: (db: Db) => Promise<void>) {
  const db = createDb(config.databaseUrl, { min: 0, max: 2 }, { queryDeadlineMs: 0 });
  try {
    await work(db);
  } catch (err) {
    console.error(`order-service: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}

async function migrate(config: Config, db: Db, logger: Logger): Promise<void> {
  await waitFor(
    mysqlTarget(config),
    () =>
      ensureDatabase(config.databaseUrl).catch((err) => {
        // No CREATE privilege is fine when the database already exists; the next query tells.
        if (!isDatabaseAccessDenied(err)) throw err;
      }),
    logger,
  );
  const [, applied] = await db.migrate.latest(migrationConfig);
  logger.info('migrations applied', { applied });
}

/** MySQL as the start-up retry lines name it. */
function mysqlTarget(config: Config) {
  return { name: 'mysql', where: `${config.database.host}:${config.database.port}` };
}

async function serve(config: Readonly<Config>, logger: Logger) {
  const services = compose(config, logger);
  if (config.ephemeralJwtSecret) {
    logger.warn(
      'JWT_SECRET is not set: tokens are signed with a random key that dies with this process',
    );
  }

  const server = createHttpServer(services.app);
  const httpDrain = trackForDrain(server);
  const metricsServer = createMetricsServer(services.metrics.registry);
  exitOnListenError(server, 'PORT', config.port, logger);
  exitOnListenError(metricsServer, 'METRICS_PORT', config.metricsPort, logger);
  server.listen(config.port, () =>
    logger.info('http listening', { port: config.port, role: config.role }),
  );
  metricsServer.listen(config.metricsPort, config.metricsHost);
  void services.readiness.start(); // 503 "starting" until the first refresh is done

  const drain = { pauseMs: 0 };
  const shutdown = createShutdown(
    logger,
    config.shutdownTimeoutSeconds * 1000,
    services.shutdownSteps(
      [{ name: 'http', run: () => httpDrain.drain(drain.pauseMs) }],
      [{ name: 'metrics', run: () => new Promise((resolve) => metricsServer.close(resolve)) }],
    ),
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // SIGTERM comes from an orchestrator still routing to us for a moment: keep accepting
      // (answering with Connection: close) while endpoints are removed. Ctrl-C needs no pause.
      if (signal === 'SIGTERM' && config.role !== 'worker') {
        drain.pauseMs = Math.min(DRAIN_PAUSE_MS, (config.shutdownTimeoutSeconds * 1000) / 4);
      }
      logger.info('shutting down', { signal, drain_pause_ms: drain.pauseMs });
      // Non-zero when a step was cut off by the deadline: the orchestrator should hear of it.
      void shutdown.run().then((clean) => process.exit(clean ? 0 : 1));
    });
  }

  if (config.migrateOnStart) {
    // On a pool of its own: a migration's statements may run longer than a request's deadline.
    const migrations = createDb(config.databaseUrl, { min: 0, max: 1 }, { queryDeadlineMs: 0 });
    await migrate(config, migrations, logger).finally(() => migrations.destroy());
  } else await waitFor(mysqlTarget(config), () => services.db.raw('SELECT 1'), logger);
  await services.start();
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`order-service: ${err.message}`);
  process.exit(1);
});
