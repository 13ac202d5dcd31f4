import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import { AppError } from './app-error';

/** bcrypt cost; 72 bytes is the most of a password bcrypt reads, the rest it ignores. */
export const BCRYPT_COST = 10;
export const BCRYPT_MAX_BYTES = 72;

/*
 * bcryptjs is pure JavaScript: ~70 ms of CPU per hash. On the main thread 200 wrong logins
 * stalled every other request for seconds, so hashing runs on worker threads. The worker is
 * eval'd source (it runs the same under ts-jest, tsx and dist/) given bcryptjs's resolved path.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, op, password, hash, cost }) => {
  try {
    const result = op === 'hash' ? bcrypt.hashSync(password, cost) : bcrypt.compareSync(password, hash);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  }
});`;

type Job = { op: 'hash' | 'compare'; password: string; hash?: string };
type Pending = { resolve: (value: never) => void; reject: (err: Error) => void };

export interface PasswordHasherOptions {
  /** Worker threads; default: one per core, at most 4. */
  threads?: number;
  /** Hashes waiting for a thread; beyond it callers get a 503 at once instead of queueing. */
  maxQueue?: number;
}

/**
 * Password hashing off the event loop with bounded concurrency and a bounded queue. Workers
 * are unref'd, so an idle pool never keeps the process alive; close() ends them.
 */
export function createPasswordHasher(options: PasswordHasherOptions = {}) {
  const size = options.threads ?? Math.min(4, availableParallelism());
  const maxQueue = options.maxQueue ?? 64;
  const bcryptjs = require.resolve('bcryptjs');
  const idle: Worker[] = [];
  const waiting: { job: Job; pending: Pending }[] = [];
  const inFlight = new Map<number, Pending & { worker: Worker }>();
  let workers: Worker[] = [];
  let nextId = 0;

  function spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs } });
    worker.unref();
    worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const pending = inFlight.get(msg.id);
      inFlight.delete(msg.id);
      if (msg.error !== undefined) pending?.reject(new Error(msg.error));
      else pending?.resolve(msg.result as never);
      release(worker);
    });
    worker.on('error', (err) => {
      for (const [id, p] of inFlight) {
        if (p.worker !== worker) continue;
        inFlight.delete(id);
        p.reject(err);
      }
      workers = workers.filter((w) => w !== worker);
      const replacement = spawn();
      workers.push(replacement);
      release(replacement);
    });
    return worker;
  }

  function release(worker: Worker): void {
    const next = waiting.shift();
    if (next) dispatch(worker, next.job, next.pending);
    else idle.push(worker);
  }

  function dispatch(worker: Worker, job: Job, pending: Pending): void {
    const id = nextId++;
    inFlight.set(id, { ...pending, worker });
    worker.postMessage({ id, cost: BCRYPT_COST, ...job });
  }

  function run<T>(job: Job): Promise<T> {
    if (workers.length === 0) {
      workers = Array.from({ length: size }, spawn);
      idle.push(...workers);
    }
    return new Promise<T>((resolve, reject) => {
      const pending = { resolve: resolve as (value: never) => void, reject };
      const worker = idle.pop();
      if (worker) return dispatch(worker, job, pending);
      if (waiting.length >= maxQueue) {
        return reject(
          new AppError('overloaded', 'Too many logins are being checked; retry shortly.', {
            headers: { 'Retry-After': '1' },
          }),
        );
      }
      waiting.push({ job, pending });
    });
  }

  return {
    hash: (password: string) => run<string>({ op: 'hash', password }),
    compare: (password: string, hash: string) => run<boolean>({ op: 'compare', password, hash }),
    /** Jobs waiting for a thread now (for tests and the busy answer). */
    queued: () => waiting.length,
    async close(): Promise<void> {
      const closing = workers;
      workers = [];
      idle.length = 0;
      await Promise.all(closing.map((w) => w.terminate()));
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

/** One hash outside the pool, for the `users add` command and the admin bootstrap. */
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** One comparison outside the pool, for the admin bootstrap at start-up. */
export function matchesHash(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
