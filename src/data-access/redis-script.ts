import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA: one round trip with only the SHA1 on the wire. Nothing is loaded
 * at start-up, so a Redis that was down then, has restarted since or had SCRIPT FLUSH answers
 * NOSCRIPT once, and the EVAL that follows runs the script and caches it again.
 */
export function createRedisScript(redis: Redis, lua: string) {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (keys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/^NOSCRIPT/.test((err as Error).message)) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
