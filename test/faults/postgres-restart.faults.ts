import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import {
  deliveryIdOf,
  dispatched,
  seedWave,
  startSink,
  startThrowawayPostgres,
  startWorker,
  statusCounts,
  waitUntil,
} from './helpers.js';

/*
 * PostgreSQL restarts (pg_ctl restart -m fast: every session cut) while four dispatcher
 * processes send a wave. Their ticks fail, the next ticks try again; rows whose claim or settle
 * was cut off come back when their lease runs out. Our own throwaway cluster, so that the
 * restart disturbs nobody else.
 */

const wave = 4_000;
const restartAt = 1_500;
const batchSize = 50;
const concurrency = 5;
const leaseSeconds = 20;

const realServers =
  process.env.TEST_DATABASE_URL !== undefined || process.env.GYM_REQUIRE_REAL_SERVERS === '1';

describe.skipIf(!realServers)('PostgreSQL restarted in the middle of a wave', () => {
  it('the workers recover and finish; nothing is lost, and only rows whose settle was cut off go twice', async () => {
    const started = Date.now();
    const cluster = await startThrowawayPostgres();
    const database = await createDatabase({ kind: 'postgres', url: cluster.url, poolSize: 2 });
    const sink = await startSink();
    const workers: ReturnType<typeof startWorker>[] = [];
    try {
      await migrateToLatest(database.db);
      await seedWave(database.db, wave);
      for (const name of ['a', 'b', 'c', 'd']) {
        workers.push(
          startWorker(name, {
            databaseUrl: cluster.url,
            smtpUrl: sink.url,
            leaseSeconds,
            batchSize,
            concurrency,
          }),
        );
      }
      await waitUntil(
        `the sink has ${restartAt} messages`,
        () => sink.acceptedTotal() >= restartAt,
        {
          timeoutMs: 240_000,
          detail: () => ({ sink: sink.acceptedTotal(), stderr: workers.map((w) => w.stderr()) }),
        },
      );
      const sinkAtRestart = sink.acceptedTotal();
      const restartStarted = Date.now();
      await cluster.restart();
      const restartSeconds = (Date.now() - restartStarted) / 1000;

      // A worker that crashed does not come back: when none is left, stop waiting and report.
      let running = workers.length;
      for (const w of workers) void w.exited.then(() => (running -= 1));
      await waitUntil(
        'every delivery is sent (or no worker is left)',
        async () => running === 0 || (await statusCounts(database.db)).sent === wave,
        {
          timeoutMs: 360_000,
          intervalMs: 500,
          detail: () => ({
            sink: sink.acceptedTotal(),
            last: workers.map((w) => w.events.at(-1)),
            stderr: workers.map((w) => w.stderr().slice(-3000)),
          }),
        },
      );
      for (const w of workers) w.kill('SIGTERM');
      const exits = await Promise.all(workers.map((w) => w.exited));
      const crashed = workers.flatMap((w, i) =>
        exits[i]!.code === 0
          ? []
          : [
              {
                worker: w.name,
                exit: exits[i],
                last: w.events.slice(-2),
                stderr: w.stderr().slice(0, 600),
              },
            ],
      );
      if (crashed.length > 0) {
        // eslint-disable-next-line no-console
        console.log(`[faults] workers that did not exit 0: ${JSON.stringify(crashed)}`);
      }

      const rows = await database.db
        .selectFrom('deliveries')
        .select(['id', 'status', 'message_id', 'attempts'])
        .execute();
      const claimedTwice = new Set(rows.filter((r) => r.attempts > 1).map((r) => r.id));
      const missingAtSink = rows.filter((r) => !sink.accepted.has(r.message_id ?? '')).length;
      const duplicates = sink.duplicates();
      const unexplained = duplicates.filter(([id]) => !claimedTwice.has(deliveryIdOf(id) ?? -1));
      const failedTicks = workers.map(
        (w) =>
          w.events.filter((e) => e.event === 'dispatch tick failed; retrying at the next tick')
            .length,
      );
      const lost = workers.map((w) => dispatched(w, 'lost'));

      // eslint-disable-next-line no-console
      console.log(
        `[faults] PostgreSQL restarted at ${sinkAtRestart} of ${wave} (restart took ${restartSeconds.toFixed(1)} s): ` +
          `rows sent ${rows.filter((r) => r.status === 'sent').length}/${wave}, distinct Message-IDs at the sink ` +
          `${sink.accepted.size}, missing at the sink ${missingAtSink}, copies ${sink.acceptedTotal()}, ` +
          `duplicated Message-IDs ${duplicates.length} (rows claimed again after the restart ${claimedTwice.size}, ` +
          `duplicates not among them ${unexplained.length}), failed ticks per worker ${JSON.stringify(failedTicks)}, ` +
          `settles lost to another worker ${JSON.stringify(lost)}, ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );

      expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
      expect(await statusCounts(database.db)).toEqual({ sent: wave });
      expect(sink.accepted.size).toBe(wave);
      expect(missingAtSink).toBe(0);
      // The restart was felt (a tick failed somewhere), and a copy too many only for a row whose
      // first claim ended without its settle: that row was claimed again.
      expect(failedTicks.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(unexplained).toEqual([]);
      expect(duplicates.every(([, copies]) => copies === 2)).toBe(true);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await sink.close();
      await database.close().catch(() => undefined);
      await cluster.stop();
    }
  });
});
