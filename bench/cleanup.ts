import mysql from 'mysql2/promise';

/**
 * Steps run once, in the order added, each even when an earlier one failed: on success, on
 * failure and on Ctrl-C alike.
 */
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

export async function dropDatabases(serverUrl: string, names: string[]): Promise<void> {
  const conn = await mysql.createConnection(serverUrl);
  try {
    for (const name of names) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}
