import { createDb } from '../../src/data-access/db';
import { orderBody, waitUntil } from '../helpers/harness';
import { openEventStream } from '../helpers/event-stream';
import { ADMIN_AUTH, useRoleProcesses } from '../helpers/role-processes';
import type { Service } from '../helpers/service-process';

/*
 * Two api processes and a worker on one database and Redis prefix, as two api pods: a client
 * that loses its stream on api #1 reconnects to api #2 with Last-Event-ID and gets exactly
 * the events it missed; api #2 shutting down ends the stream cleanly and exits 0.
 */
jest.setTimeout(90_000);

const processes = useRoleProcesses('events_replicas');
const auth = { Authorization: ADMIN_AUTH };

it('resumes on another api replica with exactly the missed events, and ends at its shutdown', async () => {
  await processes.start('worker', { MIGRATE_ON_START: 'true' });
  const [api1, api2] = await Promise.all([processes.start('api'), processes.start('api')]);
  const db = createDb(processes.databaseUrl());
  const place = async (api: Service, orderId: string) => {
    const res = await fetch(`${api.base}/orders`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(orderBody({ order_id: orderId })),
    });
    expect(res.status).toBe(201);
  };
  const published = (n: number) =>
    waitUntil(
      async () => {
        const [row] = await db('order_events').count({ n: '*' });
        const relay = await db('event_relay').first();
        return Number(row!.n) === n && Number(relay.published_sequence) === n;
      },
      { what: `${n} events published` },
    );
  try {
    const first = await openEventStream(`${api1!.base}/events`, auth);
    expect(first.status).toBe(200);
    // Published while the client is connected to api #1 (placed through api #2).
    await place(api2!, 'rep-1');
    const seen = await first.waitForMessages(3);
    first.close();

    // Missed while disconnected.
    await place(api1!, 'rep-2');
    await place(api2!, 'rep-3');
    await published(9);

    const resumed = await openEventStream(`${api2!.base}/events`, {
      ...auth,
      'Last-Event-ID': seen.at(-1)!.id!,
    });
    expect(resumed.status).toBe(200);
    const missed = await db('order_events')
      .where('sequence', '>', Number(seen.at(-1)!.data!.sequence))
      .orderBy('sequence');
    expect(missed).toHaveLength(6);
    const got = await resumed.waitForMessages(6);
    expect(got.map((m) => m.id)).toEqual(missed.map((r) => r.event_id));
    // Then live: a new event reaches the resumed stream, once.
    await place(api1!, 'rep-4');
    const live = await resumed.waitForMessages(9);
    expect(live.slice(6).map((m) => m.data!.order_id)).toEqual(['rep-4', 'rep-4', 'rep-4']);

    // SIGTERM: the stream ends (the client would reconnect elsewhere), the process exits 0.
    const code = api2!.stop('SIGTERM');
    await resumed.ended;
    expect(await code).toBe(0);
    expect(resumed.messages).toHaveLength(9);
  } finally {
    await db.destroy();
  }
});
