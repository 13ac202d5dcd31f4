import { createBatcher, Outcome } from '../../src/lib/batcher';

/** A flush that records its batches and finishes when the test says so. */
function recorder() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const flush = async (items: number[]): Promise<Outcome<number>[]> => {
    batches.push(items);
    await new Promise<void>((resolve) => releases.push(resolve));
    return items.map((n) =>
      n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 10 },
    );
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { batches, flush, releaseAll };
}

describe('createBatcher (group commit)', () => {
  it('flushes the calls of one tick together at once, and groups those arriving meanwhile', async () => {
    const r = recorder();
    const call = createBatcher(r.flush);
    const first = [call(1), call(2)];
    await Promise.resolve();
    expect(r.batches).toEqual([[1, 2]]);
    const later = [call(3), call(4), call(5)];
    await r.releaseAll();
    await r.releaseAll();
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('gives each call its own outcome: one failure fails only its call', async () => {
    const r = recorder();
    const call = createBatcher(r.flush);
    const results = [call(1), call(-2), call(3)].map((p) =>
      p.then(String, (e: Error) => e.message),
    );
    await r.releaseAll();
    await r.releaseAll();
    expect(await Promise.all(results)).toEqual(['10', 'bad -2', '30']);
  });

  it('fails every call of a flush that throws', async () => {
    const call = createBatcher<number, number>(async () => {
      throw new Error('down');
    });
    const results = [call(1), call(2)].map((p) => p.catch((e: Error) => e.message));
    expect(await Promise.all(results)).toEqual(['down', 'down']);
  });

  it('runs up to `concurrency` flushes and caps a batch by size, never splitting an item', async () => {
    const r = recorder();
    const call = createBatcher(r.flush, { concurrency: 2, maxSize: 5, sizeOf: (n) => n });
    const all = [call(1)];
    await Promise.resolve();
    all.push(call(2));
    await Promise.resolve();
    all.push(call(3), call(2), call(9), call(1));
    expect(r.batches).toEqual([[1], [2]]);
    for (let i = 0; i < 6; i++) await r.releaseAll();
    await Promise.all(all);
    expect(r.batches).toEqual([[1], [2], [3, 2], [9], [1]]);
  });
});
