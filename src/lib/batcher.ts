/** What a flush says of each item it was given, in order. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<T> {
  /** Flushes running at once; calls beyond them wait and go together into the next one. */
  concurrency?: number;
  /** How much one flush takes, by `sizeOf` (items by default); an item is never split. */
  maxSize?: number;
  sizeOf?: (item: T) => number;
}

/**
 * Natural batching (group commit): a call made while `concurrency` flushes are running waits,
 * and every call waiting when one ends goes into the next flush together. An idle batcher
 * flushes at the end of the current tick (a microtask), so it adds no delay and the calls made
 * together (the orders of one job) share a flush; under load, many calls share one round trip.
 * A flush that throws fails each of its calls with that error.
 */
export function createBatcher<T, R>(
  flush: (items: T[]) => Promise<Outcome<R>[]>,
  { concurrency = 1, maxSize = Infinity, sizeOf = () => 1 }: BatcherOptions<T> = {},
): (item: T) => Promise<R> {
  const waiting: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  let running = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || running >= concurrency) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      void run();
    });
  }

  function take() {
    let size = 0;
    let n = 0;
    while (n < waiting.length && (n === 0 || size + sizeOf(waiting[n]!.item) <= maxSize)) {
      size += sizeOf(waiting[n]!.item);
      n++;
    }
    return waiting.splice(0, n);
  }

  async function run(): Promise<void> {
    running++;
    try {
      while (waiting.length > 0) {
        const batch = take();
        try {
          const outcomes = await flush(batch.map((b) => b.item));
          batch.forEach((b, i) => {
            const outcome = outcomes[i]!;
            if (outcome.ok) b.resolve(outcome.value);
            else b.reject(outcome.error);
          });
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      running--;
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
