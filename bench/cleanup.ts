import mysql from 'mysql2/promise';

/**
 * Steps run once, in the order added, each even when an earlier one failed: on success, on
 * failure and on Ctrl-C alike.
 */
export type Cleanup = ReturnType<typeof createCleanup>;

export function createCleanup() {
  const steps: { name: string; run: () => Promise<unknown> }[] = [];
  let done: Promise<void> | undefined;
  return {
    add(name: string, run: () => Promise<unknown>) {
      steps.push({ name, run });
    },
    run(): Promise<void> {
      done ??= (async () => {
        for (const step of steps) {
          await step.run().catch((err: Error) => {
            console.error(`bench: cleanup "${step.name}" failed: ${err.message}`);
          });
        }
      })();
      return done;
    },
  };
}

/**
 * Runs a bench's main, then its clean-up, also on Ctrl-C or SIGTERM (exit 130) and on failure
 * (exit 1, with the error unless interrupted): a bench exits non-zero only when it could not run.
 */
export function runBench(main: () => Promise<void>, cleanup: Cleanup): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`bench: ${signal}: cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  main()
    .then(() => cleanup.run())
    .then(
      () => process.exit(0),
      async (err: Error) => {
        if (!interrupted) console.error(`bench: could not run: ${err.stack ?? err.message}`);
        await cleanup.run();
        process.exit(interrupted ? 130 : 1);
      },
    );
}

export async function dropDatabases(serverUrl: string, names: string[]): Promise<void> {
  const conn = await mysql.createConnection(serverUrl);
  try {
    for (const name of names) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}
