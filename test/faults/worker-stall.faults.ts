import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openMigrated, testBackends } from '../helpers/backends.js';
import {
  deliveryIdOf,
  dispatched,
  seedWave,
  startSink,
  startWorker,
  statusCounts,
  waitUntil,
} from './helpers.js';

/*
 * A paused VM, or a process the kernel stops: four dispatcher processes share a wave, and one of
 * them is stopped (SIGSTOP) in the middle of a batch for longer than its lease, until another
 * worker has taken rows it held, then resumed (SIGCONT). The resumed worker checks its claim
 * (the fencing token) before each message, so it sends none of the rows it lost; the message it
 * had already handed to SMTP holds a longer lease (`sendLeaseSeconds`), so no one sends that one
 * again. Every Message-ID reaches the sink exactly once.
 *
 * The stall ends as soon as a row has moved (an event, not a timer). It must stay under the
 * SMTP socket timeouts (60 s on both sides) for the stalled worker's connections to survive; a
 * 10 s lease leaves plenty of room even on a loaded machine.
 */

const wave = 6_000;
const stopAt = 2_000;
const batchSize = 100;
const concurrency = 5;
const leaseSeconds = 10;
const sendLeaseSeconds = 120;

const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)('a dispatcher worker stalled past its lease', () => {
  it('SIGSTOP then SIGCONT: it sends no row another worker took; every row goes exactly once', async () => {
    const started = Date.now();
    const database = await openMigrated(postgres!);
    const sink = await startSink();
    const workers = ['a', 'b', 'c', 'd'].map((name) =>
      startWorker(name, {
        databaseUrl: database.url!,
        smtpUrl: sink.url,
        leaseSeconds,
        sendLeaseSeconds,
        batchSize,
        concurrency,
      }),
    );
    const victim = workers[1]!;
    const heldBy = async (worker: string) =>
      database.db
        .selectFrom('deliveries')
        .select([
          'id',
          'lease_token',
          // Past the batch lease: a message the worker had handed to SMTP (its send lease).
          sql<boolean>`lease_until > now() + make_interval(secs => ${leaseSeconds + 1})`.as(
            'inFlight',
          ),
        ])
        .where('status', '=', 'claimed')
        .where('claimed_by', '=', worker)
        .execute();
    try {
      await seedWave(database.db, wave);
      await waitUntil(`the sink has ${stopAt} messages`, () => sink.acceptedTotal() >= stopAt, {
        timeoutMs: 240_000,
        detail: () => ({ sink: sink.acceptedTotal(), stderr: workers.map((w) => w.stderr()) }),
      });
      // Stopped where it holds a batch (between two claims it may hold none: then it goes on a
      // little and is stopped again).
      let held: { id: number; lease_token: number; inFlight: boolean }[] = [];
      for (let tries = 0; held.length === 0; tries++) {
        if (tries === 20) throw new Error('the victim never held a batch when it was stopped');
        victim.kill('SIGSTOP');
        held = await heldBy(victim.name);
        if (held.length > 0) break;
        victim.kill('SIGCONT');
        const mark = sink.acceptedTotal();
        await waitUntil('the sink moves on', () => sink.acceptedTotal() > mark + 20, {
          timeoutMs: 60_000,
        });
      }
      const stoppedAt = Date.now();
      const tokenAtStop = new Map(held.map((r) => [r.id, r.lease_token]));
      // Until another worker has taken a row the stopped one held: its lease ran out meanwhile.
      await waitUntil(
        'another worker takes a row the stopped worker held',
        async () => {
          const rows = await database.db
            .selectFrom('deliveries')
            .select(['id', 'lease_token'])
            .where(
              'id',
              'in',
              held.map((r) => r.id),
            )
            .execute();
          return rows.some((r) => r.lease_token > tokenAtStop.get(r.id)!);
        },
        { timeoutMs: 120_000, intervalMs: 250, detail: () => ({ sink: sink.acceptedTotal() }) },
      );
      const stalledSeconds = (Date.now() - stoppedAt) / 1000;
      victim.kill('SIGCONT');

      await waitUntil(
        'every delivery is sent',
        async () => (await statusCounts(database.db)).sent === wave,
        { timeoutMs: 360_000, intervalMs: 500, detail: () => ({ sink: sink.acceptedTotal() }) },
      );
      for (const w of workers) w.kill('SIGTERM');
      const exits = await Promise.all(workers.map((w) => w.exited));

      const rows = await database.db
        .selectFrom('deliveries')
        .select(['id', 'status', 'message_id', 'lease_token', 'claimed_by'])
        .execute();
      const heldRows = rows.filter((r) => tokenAtStop.has(r.id));
      const taken = heldRows.filter((r) => r.lease_token > tokenAtStop.get(r.id)!).length;
      const inFlight = held.filter((r) => r.inFlight).map((r) => r.id);
      const inFlightTaken = heldRows.filter(
        (r) => inFlight.includes(r.id) && r.lease_token > tokenAtStop.get(r.id)!,
      ).length;
      const duplicates = sink.duplicates();
      const lostByVictim = dispatched(victim, 'lost');
      const reclaimed = rows.filter((r) => r.lease_token > 1).length;
      // eslint-disable-next-line no-console
      console.log(
        `[faults] SIGSTOP one of four workers at ${stopAt} of ${wave} for ${stalledSeconds.toFixed(1)} s ` +
          `(lease ${leaseSeconds} s): it held ${held.length} rows, ${inFlight.length} of them in flight; ` +
          `others took ${taken} of them (${inFlightTaken} in flight); ` +
          `it then found ${lostByVictim} taken and sent none of them; rows claimed more than once ` +
          `${reclaimed}; rows sent ${rows.filter((r) => r.status === 'sent').length}/${wave}, ` +
          `distinct Message-IDs at the sink ${sink.accepted.size}, copies ${sink.acceptedTotal()}, ` +
          `duplicated Message-IDs ${duplicates.length}` +
          (duplicates.length > 0
            ? ` (${duplicates.map(([id]) => `d${deliveryIdOf(id)}`).join(' ')})`
            : '') +
          `, sent per worker (logged) ${JSON.stringify(Object.fromEntries(workers.map((w) => [w.name, dispatched(w, 'sent')])))}, ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );

      expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
      // The stall did what it is for: rows the stopped worker held moved to other workers...
      expect(taken).toBeGreaterThan(0);
      // ...and the resumed worker found them gone when it came to send them.
      expect(lostByVictim).toBeGreaterThan(0);
      // A message already in the relay's hands stays with its holder (its send lease).
      expect(inFlightTaken).toBe(0);
      expect(await statusCounts(database.db)).toEqual({ sent: wave });
      // Exactly once: no Message-ID twice, none missing.
      expect(duplicates).toEqual([]);
      expect(sink.accepted.size).toBe(wave);
      expect(sink.acceptedTotal()).toBe(wave);
      expect(rows.every((r) => sink.accepted.get(r.message_id ?? '') === 1)).toBe(true);
    } finally {
      for (const w of workers) {
        w.kill('SIGCONT');
        w.kill('SIGKILL');
      }
      await Promise.all(workers.map((w) => w.exited));
      await sink.close();
      await database.close();
    }
  });
});
