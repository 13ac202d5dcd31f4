/*
 * The data layer on a real three-node Galera cluster (mariadbd + galera-4 on loopback ports):
 * migrations under strict-mode rules, certification conflicts retried whole, a node killed
 * while orders are written, and read-your-writes across nodes.
 *
 * Needs mariadb-server galera-4 rsync iproute2 (see cluster.ts): a system suite, run by
 * `npm run test:system`, which names the packages when they are missing.
 */
import { randomBytes } from 'node:crypto';
import { createDb, Db, DbOptions, ensureDatabase } from '../../src/data-access/db';
import { isMysqlUnavailable, retryReason } from '../../src/data-access/mysql-errors';
import { migrationConfig } from '../../src/data-access/migrations';
import { ORDER_JOB_ATTEMPTS } from '../../src/data-access/order-queue';
import { createOrderRepository, OrderRepository } from '../../src/data-access/order-repository';
import { Money } from '../../src/domain/money';
import { type Order, transition } from '../../src/domain/order';
import { createApiKeyRepository } from '../../src/data-access/api-key-repository';
import { generateApiKey } from '../../src/domain/api-key';
import { pendingOrder } from '../helpers/harness';
import { GaleraCluster, readNodeFile, sleep, startCluster } from './helpers/cluster';

const DATABASE = 'orders';

/** What the tests observed, printed once at the end (retries, acknowledged vs present, ...). */
const observed: Record<string, unknown> = {};

let cluster: GaleraCluster;
const pools: Db[] = [];

/** A knex pool through one node, as the service builds it (wsrep_sync_wait=1 per session). */
function dbOn(node: number, pool = { min: 0, max: 10 }, options: DbOptions = {}): Db {
  const db = createDb(cluster.node(node).url(DATABASE), pool, options);
  pools.push(db);
  return db;
}

describe('order-service on a three-node Galera cluster', () => {
  beforeAll(async () => {
    // REQUIRED_PRIMARY_KEY and STRICT_REPLICATION are MariaDB's nearest to PXC strict mode:
    // CREATE TABLE without a primary key and DDL on non-InnoDB tables are refused.
    cluster = await startCluster({
      size: 3,
      extraArgs: ['--wsrep-mode=REQUIRED_PRIMARY_KEY,STRICT_REPLICATION'],
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pools.map((db) => db.destroy().catch(() => undefined)));
    await cluster?.stop();
    if (Object.keys(observed).length > 0) {
      console.log('Galera observations:\n' + JSON.stringify(observed, null, 2));
    }
  }, 60_000);

  it('applies the knex migrations unchanged; every table is InnoDB with a primary key', async () => {
    // Record what the migration sends to node 1, to check it against PXC strict mode.
    await cluster.query(1, "SET GLOBAL log_output = 'FILE'");
    await cluster.query(1, "SET GLOBAL general_log_file = 'migration-general.log'");
    await cluster.query(1, 'SET GLOBAL general_log = ON');
    await ensureDatabase(cluster.node(1).url(DATABASE));
    const db1 = dbOn(1);
    const [, applied] = await db1.migrate.latest(migrationConfig);
    await cluster.query(1, 'SET GLOBAL general_log = OFF');
    expect(applied.length).toBeGreaterThan(0);

    // The strict mode of this cluster is on: a table without a primary key is refused (MariaDB
    // says "Galera replication not supported"), the same table with one is accepted.
    await expect(cluster.query(1, `CREATE TABLE ${DATABASE}.probe (a INT)`)).rejects.toThrow(
      /Galera replication not supported/,
    );
    await cluster.query(1, `CREATE TABLE ${DATABASE}.probe (a INT PRIMARY KEY)`);
    await cluster.query(1, `DROP TABLE ${DATABASE}.probe`);

    for (const node of [1, 2, 3]) {
      const tables = await cluster.query<{ name: string; engine: string; pk: number }>(
        node,
        `SELECT t.TABLE_NAME AS name, t.ENGINE AS engine,
                (SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c
                  WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
                    AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS pk
           FROM information_schema.TABLES t
          WHERE t.TABLE_SCHEMA = ? ORDER BY t.TABLE_NAME`,
        [DATABASE],
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'knex_migrations',
          'knex_migrations_lock',
          'orders',
          'customer_items',
          'api_keys',
        ]),
      );
      for (const t of tables) {
        expect({ table: t.name, engine: t.engine, primaryKey: Number(t.pk) }).toEqual({
          table: t.name,
          engine: 'InnoDB',
          primaryKey: 1,
        });
      }
      observed.tables = tables.map((t) => t.name);
    }

    // Nothing PXC strict mode refuses: LOCK TABLES, GET_LOCK(), XA, SERIALIZABLE.
    const generalLog = await readNodeFile(cluster.node(1), 'migration-general.log');
    expect(generalLog).toMatch(/create table `knex_migrations_lock`/i);
    expect(generalLog).not.toMatch(
      /\bLOCK\s+TABLES?\b|\bGET_LOCK\s*\(|\bXA\s+(START|BEGIN)\b|SERIALIZABLE/i,
    );

    // A second run through another node sees the migrations as applied (replicated bookkeeping).
    const [, again] = await dbOn(3).migrate.latest(migrationConfig);
    expect(again).toEqual([]);
  }, 60_000);

  it('revokes API keys through one node while another records their use, retrying conflicts', async () => {
    const feed = {
      covers: () => false,
      onRevoked: () => undefined,
      publish: async () => undefined,
      stop: () => undefined,
    };
    const retried: string[] = [];
    const node1 = createApiKeyRepository(dbOn(1), feed);
    const node2 = createApiKeyRepository(dbOn(2), feed, { onRetry: (r) => retried.push(r) });
    const keys = Array.from({ length: 20 }, () => generateApiKey());
    for (const key of keys) {
      await node1.insert({
        id: key.id,
        key_hash: key.hash,
        last4: key.last4,
        name: null,
        role: 'manager',
        customer_id: null,
        created_by: 'galera-test',
        created_at: new Date(),
        expires_at: null,
      });
    }
    // Every key's row is written on node 1 (last use) and node 2 (revocation) at once.
    const db1 = dbOn(1);
    const revoked = await Promise.all(
      keys.map(async ({ id }) => {
        const uses = Array.from({ length: 5 }, () =>
          db1('api_keys')
            .where({ id })
            .update({ last_used_at: new Date() })
            .catch(() => 0),
        );
        const [ok] = await Promise.all([node2.revoke(id, new Date()), ...uses]);
        return ok;
      }),
    );
    expect(revoked.every((ok) => ok === true)).toBe(true);
    const rows = await cluster.query<{ n: number }>(
      3,
      `SELECT COUNT(*) AS n FROM ${DATABASE}.api_keys WHERE revoked_at IS NOT NULL AND id IN (?)`,
      [keys.map((k) => k.id)],
    );
    expect(Number(rows[0]!.n)).toBe(keys.length);
    observed.apiKeyRevokeRetries = count(retried);
  }, 60_000);

  it('retries certification conflicts whole: completing one customer’s orders on two nodes', async () => {
    const N = 120;
    const customer = `c-hot-${randomBytes(3).toString('hex')}`;
    const retries = { node1: [] as string[], node2: [] as string[] };
    const repos: OrderRepository[] = [
      createOrderRepository(dbOn(1), { onRetry: (reason) => retries.node1.push(reason) }),
      createOrderRepository(dbOn(2), { onRetry: (reason) => retries.node2.push(reason) }),
    ];
    const orders = Array.from({ length: N }, (_, i) => makeOrder(`${customer}-${i}`, customer, i));
    await repos[0]!.insertOrders(orders);

    // Every completion updates the same customer_summaries / customer_totals / customer_items
    // rows; half run on node 1 and half on node 2, all at once. A transition whose conflicts
    // outlast withTransaction's attempts throws; like a redelivered job (the worker's BullMQ
    // retry), the guarded steps then run again, so a completion still happens exactly once.
    const exhausted: string[] = [];
    const failures: unknown[] = [];
    await Promise.all(
      orders.map(async (order, i) => {
        const repo = repos[i % 2]!;
        for (let delivery = 1; ; delivery++) {
          try {
            await repo.transition(order.order_id, transition('pending', 'processing'));
            await repo.transition(order.order_id, transition('processing', 'completed'));
            return;
          } catch (err) {
            if (!retryReason(err) || delivery >= ORDER_JOB_ATTEMPTS) {
              failures.push(err);
              return;
            }
            exhausted.push(describeError(err));
            await sleep(200 * delivery);
          }
        }
      }),
    );
    observed.conflicts = {
      orders: N,
      connectionsPerNode: 10,
      retriesViaNode1: count(retries.node1),
      retriesViaNode2: count(retries.node2),
      transitionsThatExhaustedTheirAttempts: count(exhausted),
      failures: failures.map(describeError),
    };
    expect(failures.map(describeError)).toEqual([]);
    expect([...retries.node1, ...retries.node2]).toContain('deadlock');

    // Checked through the third node, which took no part in the race.
    const db3 = dbOn(3);
    const statuses = await db3('orders').where('customer_id', customer).pluck('status');
    expect(statuses).toEqual(Array(N).fill('completed'));
    const history = await db3('order_status_history')
      .join('orders', 'orders.order_id', 'order_status_history.order_id')
      .where('orders.customer_id', customer)
      .select('order_status_history.order_id as id', 'order_status_history.status as status');
    const completions = history.filter((h) => h.status === 'completed').map((h) => h.id);
    expect(completions).toHaveLength(N);
    expect(new Set(completions).size).toBe(N);
    expect(history).toHaveLength(3 * N); // pending, processing, completed: once each

    const expected = expectedReadModels(orders);
    const summary = await db3('customer_summaries').where('customer_id', customer).first();
    expect(Number(summary.orders_count)).toBe(N);
    expect(Number(summary.items_count)).toBe(expected.itemsCount);
    const totals = await db3('customer_totals')
      .where('customer_id', customer)
      .select('currency', 'amount');
    expect(
      totals.map((t) => ({ currency: t.currency, amount: new Money(t.amount).toFixed(4) })),
    ).toEqual([{ currency: 'USD', amount: expected.total.toFixed(4) }]);
    const items = await db3('customer_items').where('customer_id', customer).orderBy('sku');
    expect(
      items.map((r) => ({
        sku: r.sku,
        quantity: Number(r.quantity),
        amount: new Money(r.amount).toFixed(4),
        orders: Number(r.orders),
      })),
    ).toEqual(expected.items);
  }, 90_000);

  it('keeps every acknowledged order when a bystander node is killed mid-write', async () => {
    const run = await writeWhileKilling({ writeVia: [1, 2], kill: 3, tag: 'bystander' });
    observed.killBystander = run.summary;
    expect(run.missing).toEqual([]);
    // The survivors keep quorum and writes stall for seconds; the 2 s query deadline turns the
    // stall into "MySQL unavailable" (a 503 for a client, a deferral for a job), nothing else.
    expect(run.summary.otherErrors).toBe(0);
    expect(run.acknowledged.size).toBeGreaterThan(0);
    expect(run.writesAfterKill).toBeGreaterThan(0); // the survivors kept accepting writes

    await cluster.restart(3);
    await cluster.waitForSize(3);
    await expectSameOrdersOnEveryNode(run.tag, 3);
  }, 90_000);

  it('fails the client, never silently, when the node it writes through is killed', async () => {
    const run = await writeWhileKilling({ writeVia: [1, 2], kill: 2, tag: 'victim' });
    observed.killWrittenThrough = run.summary;
    expect(run.missing).toEqual([]);
    // Writers on node 2 saw errors; those writes are in doubt (committed or not), never
    // reported as done.
    expect(run.errorsVia[2]).toBeGreaterThan(0);
    expect(run.writesAfterKill).toBeGreaterThan(0);

    await cluster.restart(2);
    await cluster.waitForSize(3);
    await expectSameOrdersOnEveryNode(run.tag, 2);
  }, 90_000);

  it('reads its own writes on another node (wsrep_sync_wait=1 from createDb)', async () => {
    const writer = createOrderRepository(dbOn(1));
    const readerDb = dbOn(2);
    const reader = createOrderRepository(readerDb);
    const [{ wait }] = (await readerDb.raw('SELECT @@SESSION.wsrep_sync_wait AS wait'))[0];
    expect(Number(wait)).toBe(1);

    const ROUNDS = 500;
    const tag = `ryw-${randomBytes(3).toString('hex')}`;
    let stale = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const order = makeOrder(`${tag}-${i}`, `c-${tag}`, i);
      await writer.insertOrders([order]);
      if (!(await reader.findOrder(order.order_id))) stale++;
    }

    // The same loop with wsrep_sync_wait=0 on the reader, for comparison only (not asserted:
    // whether a read lands before the apply depends on timing).
    const loose = dbOn(2, { min: 1, max: 1 });
    await loose.raw('SET SESSION wsrep_sync_wait = 0');
    let staleWithout = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const order = makeOrder(`${tag}-loose-${i}`, `c-${tag}`, i);
      await writer.insertOrders([order]);
      const row = await loose('orders').where('order_id', order.order_id).first();
      if (!row) staleWithout++;
    }
    observed.readYourWrites = {
      rounds: ROUNDS,
      staleWithSyncWait1: stale,
      staleWithSyncWait0: staleWithout,
    };
    expect(stale).toBe(0);
  }, 90_000);
});

/**
 * Writes single-order transactions through `writeVia` (4 writers per node) while SIGKILLing
 * node `kill`, until the survivors have formed a two-node cluster and accepted writes for two
 * more seconds. Then compares what was acknowledged with what the survivors hold.
 */
async function writeWhileKilling(opts: { writeVia: number[]; kill: number; tag: string }) {
  const tag = `${opts.tag}-${randomBytes(3).toString('hex')}`;
  const acknowledged = new Set<string>();
  const inDoubt = new Set<string>();
  const errorsVia: Record<number, number> = {};
  const errorKinds: Record<string, number> = {};
  let otherErrors = 0;
  let killedAt = Infinity;
  let writesAfterKill = 0;
  let stop = false;
  let seq = 0;

  let slowestAckMs = 0;
  let refusedConnections = 0;
  const writers = opts.writeVia.flatMap((node) => {
    const db = dbOn(node, { min: 0, max: 4 });
    // knex prints "Acquire connection error" for every refused connection: count them instead.
    (db.client.logger as { _warn?: (message: string) => void })._warn = () => refusedConnections++;
    const repo = createOrderRepository(db);
    errorsVia[node] = 0;
    return Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = `${tag}-n${node}-${seq++}`;
        const sent = Date.now();
        try {
          await repo.insertOrders([makeOrder(id, `c-${tag}`, seq)]);
          acknowledged.add(id);
          slowestAckMs = Math.max(slowestAckMs, Date.now() - sent);
          if (Date.now() > killedAt) writesAfterKill++;
        } catch (err) {
          inDoubt.add(id);
          errorsVia[node]!++;
          if (!isMysqlUnavailable(err)) otherErrors++;
          const kind = describeError(err);
          errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
          await sleep(100);
        }
      }
    });
  });

  const started = Date.now();
  await sleep(1500);
  killedAt = Date.now();
  await cluster.kill(opts.kill);
  await cluster.waitForSize(2, 30_000);
  const survivorsAt = Date.now();
  await sleep(2000);
  stop = true;
  await Promise.all(writers);

  const survivors = [1, 2, 3].filter((n) => n !== opts.kill);
  const missing: string[] = [];
  const presentOnSurvivors: number[] = [];
  let inDoubtPresent = 0;
  for (const node of survivors) {
    const present = new Set(
      // The test's own reads wait out a stall: no query deadline.
      await dbOn(
        node,
        { min: 0, max: 1 },
        { queryDeadlineMs: 0 },
      )('orders')
        .where('order_id', 'like', `${tag}-%`)
        .pluck('order_id'),
    );
    presentOnSurvivors.push(present.size);
    for (const id of acknowledged) if (!present.has(id)) missing.push(`${id} on node ${node}`);
    inDoubtPresent = [...inDoubt].filter((id) => present.has(id)).length;
  }
  return {
    tag,
    acknowledged,
    missing,
    errorsVia,
    writesAfterKill,
    summary: {
      killedNode: opts.kill,
      writtenVia: opts.writeVia,
      acknowledged: acknowledged.size,
      presentOnSurvivors,
      missing: missing.length,
      failedWrites: inDoubt.size,
      otherErrors,
      failedWritesPresent: inDoubtPresent,
      errorKinds,
      refusedConnections,
      writesAfterKill,
      slowestAckMs,
      msUntilTwoNodeCluster: survivorsAt - killedAt,
      msTotal: Date.now() - started,
    },
  };
}

/** After a rejoin, every node holds the same orders (and their items) for this run. */
async function expectSameOrdersOnEveryNode(tag: string, rejoined: number) {
  const sets: string[][] = [];
  for (const node of [1, 2, 3]) {
    const db = dbOn(node, { min: 0, max: 1 }, { queryDeadlineMs: 0 });
    const ids = await db('orders')
      .where('order_id', 'like', `${tag}-%`)
      .orderBy('order_id')
      .pluck('order_id');
    const items = await db('order_items').where('order_id', 'like', `${tag}-%`).count({ n: '*' });
    expect(Number(items[0]!.n)).toBe(2 * ids.length); // every order kept its two lines
    sets.push(ids);
  }
  observed[`rejoinedNode${rejoined}`] = { ordersPerNode: sets.map((s) => s.length) };
  expect(sets[1]).toEqual(sets[0]);
  expect(sets[2]).toEqual(sets[0]);
}

/** A pending USD order with two lines from a small SKU set, so read-model rows are shared. */
function makeOrder(orderId: string, customerId: string, n: number): Order {
  return pendingOrder(orderId, customerId, [
    {
      sku: ['TEA', 'COFFEE', 'COCOA'][n % 3]!,
      name: 'drink',
      quantity: 1 + (n % 4),
      unit_price: `${(n * 37) % 50}.${String((n * 13) % 100).padStart(2, '0')}`,
    },
    { sku: 'MUG', name: 'mug', quantity: 1 + (n % 2), unit_price: '7.45' },
  ]);
}

function expectedReadModels(orders: Order[]) {
  const items = new Map<string, { sku: string; quantity: number; amount: Money; orders: number }>();
  let itemsCount = 0;
  let total = new Money(0);
  for (const o of orders) {
    total = total.plus(o.total);
    for (const i of o.items) {
      itemsCount += i.quantity;
      const row = items.get(i.sku) ?? { sku: i.sku, quantity: 0, amount: new Money(0), orders: 0 };
      row.quantity += i.quantity;
      row.amount = row.amount.plus(i.line_total);
      row.orders += 1; // each order has a SKU at most once
      items.set(i.sku, row);
    }
  }
  return {
    itemsCount,
    total,
    items: [...items.values()]
      .sort((a, b) => (a.sku < b.sku ? -1 : 1))
      .map((r) => ({ ...r, amount: r.amount.toFixed(4) })),
  };
}

function count(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function describeError(err: unknown): string {
  const e = err as { code?: string; errno?: number; message?: string };
  return (
    [e.code, e.errno].filter((x) => x !== undefined).join(' ') || String(e.message).slice(0, 80)
  );
}
