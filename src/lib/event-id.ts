import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, as ULIDs use
const RANDOM_MAX = (1n << 80n) - 1n;

function base32(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/**
 * Monotonic ULIDs: 26 characters, unique without asking the database, and increasing within a
 * process even inside one millisecond (the random part is incremented), so two events of one
 * order written in one statement keep their order. No ':' (BullMQ job ids must not have one).
 */
export function createEventIds(now: () => number = Date.now) {
  let lastTime = -1;
  let lastRandom = 0n;
  return function nextEventId(): string {
    const time = Math.max(now(), lastTime);
    if (time === lastTime && lastRandom < RANDOM_MAX) {
      lastRandom += 1n;
    } else {
      lastTime = time;
      lastRandom = BigInt('0x' + randomBytes(10).toString('hex')) >> 1n; // room to increment
    }
    return base32(BigInt(time), 10) + base32(lastRandom, 16);
  };
}

/** When a ULID was made (its first 10 characters, milliseconds since the epoch). */
export function eventIdTime(id: string): Date {
  let ms = 0;
  for (const c of id.slice(0, 10)) ms = ms * 32 + ALPHABET.indexOf(c);
  return new Date(ms);
}

export const EVENT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
