import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMigrated, testBackends } from '../helpers/backends.js';
import { startGym, type RunningGym } from '../helpers/cli.js';
import {
  clockStart,
  deliveryIdOf,
  dispatched,
  secret,
  seedWave,
  startSink,
  startWorker,
  statusCounts,
  waitUntil,
} from './helpers.js';

/*
 * Four dispatcher processes share one PostgreSQL schema and a 10,000-delivery wave due at one
 * instant. One of them dies in the middle: with SIGKILL (nothing finishes: what it had claimed
 * waits for its lease to run out, and what it had sent but not yet recorded is sent again), and
 * with SIGTERM (it finishes the messages in flight and exits 0: nothing is sent twice). The live
 * workers keep their leases however loaded the machine: the leases are on the database's clock
 * and renewed while a batch is sent (a worker stalled past its lease: worker-stall.faults.ts).
 */

const wave = 10_000;
const killAt = 3_000;
const batchSize = 100;
const concurrency = 5;
const leaseSeconds = 20;

const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)('a dispatcher worker dying mid-wave', () => {
  it('SIGKILL: no delivery lost; duplicates only among the killed worker’s messages in flight', async () => {
    const started = Date.now();
    const database = await openMigrated(postgres!);
    const sink = await startSink();
    const names = ['a', 'b', 'c', 'd'];
    const workers = names.map((name) =>
      startWorker(name, {
        databaseUrl: database.url!,
        smtpUrl: sink.url,
        leaseSeconds,
        batchSize,
        concurrency,
      }),
    );
    try {
      await seedWave(database.db, wave);
      await waitUntil(`the sink has ${killAt} messages`, () => sink.acceptedTotal() >= killAt, {
        timeoutMs: 240_000,
        detail: () => ({ sink: sink.acceptedTotal(), stderr: workers.map((w) => w.stderr()) }),
      });
      const victim = workers[1]!;
      victim.kill('SIGKILL');
      const died = await victim.exited;
      const sinkAtKill = sink.acceptedTotal();
      // What the dead worker still held: its last claim, which only its lease running out frees.
      const held = await database.db
        .selectFrom('deliveries')
        .select(['id'])
        .where('status', '=', 'claimed')
        .where('claimed_by', '=', victim.name)
        .execute();
      const heldIds = new Set(held.map((r) => r.id));

      await waitUntil(
        'every delivery is sent',
        async () => (await statusCounts(database.db)).sent === wave,
        {
          timeoutMs: 360_000,
          intervalMs: 500,
          detail: () => ({ sink: sink.acceptedTotal() }),
        },
      );
      const survivors = workers.filter((w) => w !== victim);
      for (const w of survivors) w.kill('SIGTERM');
      const exits = await Promise.all(survivors.map((w) => w.exited));

      const rows = await database.db
        .selectFrom('deliveries')
        .select(['id', 'status', 'message_id', 'lease_token'])
        .execute();
      const missingAtSink = rows.filter((r) => !sink.accepted.has(r.message_id ?? '')).length;
      const duplicates = sink.duplicates();
      const duplicateIds = duplicates.map(([id]) => deliveryIdOf(id));
      const outsideHeld = duplicateIds.filter((id) => id === undefined || !heldIds.has(id));
      // Each claim bumps the fencing token: more than one means another worker took the row.
      const reclaimed = rows.filter((r) => r.lease_token > 1).length;
      const sentBy = Object.fromEntries(workers.map((w) => [w.name, dispatched(w, 'sent')]));

      // eslint-disable-next-line no-console
      console.log(
        `[faults] SIGKILL one of four workers at ${sinkAtKill} of ${wave}: ` +
          `rows sent ${rows.filter((r) => r.status === 'sent').length}/${wave}, ` +
          `distinct Message-IDs at the sink ${sink.accepted.size}, missing at the sink ${missingAtSink}, ` +
          `copies at the sink ${sink.acceptedTotal()}, duplicated Message-IDs ${duplicates.length} ` +
          `(bound: ${concurrency} in flight), rows the dead worker held ${heldIds.size}, ` +
          `rows claimed more than once ${reclaimed}, sent per worker (logged) ${JSON.stringify(sentBy)}, ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );

      expect(died.signal).toBe('SIGKILL');
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
      expect(await statusCounts(database.db)).toEqual({ sent: wave });
      expect(sink.accepted.size).toBe(wave);
      expect(missingAtSink).toBe(0);
      // A copy too many only for a message the dead worker had handed to SMTP and not recorded:
      // one per lane at most, and only among the rows its lease still held.
      expect(outsideHeld).toEqual([]);
      expect(duplicates.length).toBeLessThanOrEqual(concurrency);
      expect(duplicates.every(([, copies]) => copies === 2)).toBe(true);
      expect(heldIds.size).toBeLessThanOrEqual(batchSize);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await sink.close();
      await database.close();
    }
  });

  it('SIGTERM (the real gym run): the stopped worker finishes its messages in flight; nothing sent twice', async () => {
    const started = Date.now();
    const database = await openMigrated(postgres!);
    const sink = await startSink();
    const dataDirs = await Promise.all(
      [0, 1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'gym-faults-run-'))),
    );
    const names = ['a', 'b', 'c', 'd'];
    let gyms: RunningGym[] = [];
    try {
      await seedWave(database.db, wave);
      gyms = names.map((name, i) =>
        startGym(['run', '--clock', clockStart, '--worker', name], {
          DATABASE_URL: database.url!,
          SMTP_URL: sink.url,
          GYM_SECRET: secret,
          GYM_HTTP_PORT: '0',
          GYM_DATA_DIR: dataDirs[i]!,
        }),
      );
      await Promise.all(gyms.map((g) => g.waitForLog(/"msg":"dispatcher started"/)));
      await waitUntil(`the sink has ${killAt} messages`, () => sink.acceptedTotal() >= killAt, {
        timeoutMs: 240_000,
        detail: () => ({ sink: sink.acceptedTotal() }),
      });
      const signalled = Date.now();
      const sinkAtSignal = sink.acceptedTotal();
      const stopped = await gyms[1]!.stop('SIGTERM');
      const exitSeconds = (Date.now() - signalled) / 1000;
      const sinkAtExit = sink.acceptedTotal();
      const leftClaimed = await database.db
        .selectFrom('deliveries')
        .select('id')
        .where('status', '=', 'claimed')
        .where('claimed_by', '=', 'b')
        .execute();
      const sentByStopped = stopped.stderr
        .split('\n')
        .filter((line) => line.includes('"msg":"dispatched"'))
        .map((line) => Number(/"sent":(\d+)/.exec(line)?.[1] ?? 0))
        .reduce((a, b) => a + b, 0);

      await waitUntil(
        'every delivery is sent',
        async () => (await statusCounts(database.db)).sent === wave,
        { timeoutMs: 360_000, intervalMs: 500, detail: () => ({ sink: sink.acceptedTotal() }) },
      );
      const others = await Promise.all(
        gyms.filter((_, i) => i !== 1).map((g) => g.stop('SIGTERM')),
      );
      const duplicates = sink.duplicates();
      // eslint-disable-next-line no-console
      console.log(
        `[faults] SIGTERM one of four gym run workers at ${sinkAtSignal} of ${wave}: ` +
          `it exited ${stopped.code} after ${exitSeconds.toFixed(1)} s (sink ${sinkAtExit} by then), ` +
          `it sent ${sentByStopped} in all, left claimed ${leftClaimed.length}; ` +
          `rows sent ${(await statusCounts(database.db)).sent}/${wave}, distinct Message-IDs at the sink ` +
          `${sink.accepted.size}, copies ${sink.acceptedTotal()}, duplicated Message-IDs ${duplicates.length}, ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );

      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toContain('"msg":"stopped"');
      expect(others.map((o) => o.code)).toEqual([0, 0, 0]);
      expect(leftClaimed).toEqual([]);
      expect(await statusCounts(database.db)).toEqual({ sent: wave });
      expect(sink.accepted.size).toBe(wave);
      expect(duplicates).toEqual([]);
      expect(sink.acceptedTotal()).toBe(wave);
      // "Finishes the messages in flight": its batch (100 at about 25 a second), not the rest of
      // the wave. Generous for a busy two-core machine.
      expect(exitSeconds).toBeLessThan(20);
    } finally {
      await Promise.all(gyms.map((g) => g.stop('SIGKILL').catch(() => undefined)));
      await sink.close();
      await database.close();
      await Promise.all(dataDirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
