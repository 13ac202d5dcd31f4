import { Redis } from 'ioredis';
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

/** Deletes every key under `<prefix>:` for each prefix. */
export async function deletePrefixes(redisUrl: string, prefixes: string[]): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
