import cron from 'node-cron';
import { messageOf } from '../errors.js';
import { digestTick, type DigestCounts } from './digests.js';
import { dispatchTick, noCounts, type DispatchDependencies, type TickCounts } from './dispatch.js';

export interface DispatcherLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DispatcherLoop {
  /** Stops claiming, waits for the messages in flight, and resolves when nothing is left running. */
  stop(): Promise<void>;
}

/**
 * The clock that decides what is due: a function for a clock of the caller's own (tests,
 * `--clock`, the demo), or `'database'` for PostgreSQL's `now()`, shared by every worker (see
 * `src/db/deliveries.ts`).
 */
export type DueClock = (() => Date) | 'database';

/**
 * Sends everything due now: ticks until a claim comes back short of a full batch. Used by each
 * scheduled tick and by `gym run --once`.
 */
export async function drainDue(
  deps: DispatchDependencies,
  now: DueClock,
  /** Checked before each claim: a worker asked to stop claims nothing more. */
  stopping: () => boolean = () => false,
): Promise<TickCounts> {
  const total = noCounts();
  const batch = deps.batchSize ?? 100;
  for (;;) {
    if (stopping()) return total;
    const counts = await dispatchTick(deps, now === 'database' ? now : now());
    let claimed = 0;
    for (const key of Object.keys(total) as (keyof TickCounts)[]) {
      total[key] += counts[key];
      claimed += counts[key];
    }
    if (claimed < batch) return total;
  }
}

/** Sends the manager digests that are due, when the dispatcher has a digest store. */
export async function sendDueDigests(
  deps: DispatchDependencies,
  now: DueClock,
): Promise<DigestCounts | undefined> {
  if (deps.digests === undefined) return undefined;
  const at = now === 'database' ? await deps.store.databaseNow() : now();
  return digestTick(deps, deps.digests, at);
}

/**
 * The dispatcher of `gym run`: a node-cron tick (every 5 seconds by default) that drains what is
 * due. Ticks never overlap in one process; other processes claim other rows (SKIP LOCKED). A
 * failing tick (the database restarting, say) is logged and the next one tries again.
 */
/**
 * Leaves a trace of the tick for `gym status` ("each worker's last tick"). Best effort: a
 * database that cannot take it failed the tick already, and the log says so.
 */
export async function noteTick(
  deps: DispatchDependencies,
  outcome: { sent: number; error?: string | undefined },
): Promise<void> {
  await deps.store.recordTick?.(deps.workerId, outcome).catch(() => undefined);
}

export function startDispatcher(
  deps: DispatchDependencies,
  options: {
    now: DueClock;
    log: DispatcherLog;
    every?: string;
    /** Called after each tick, failed or not: where the run loop looks at the relay's health. */
    afterTick?: () => void;
    /**
     * Other work of the tick, after the mail and digests (the trainer's alert, retention): cheap
     * when there is nothing to do, and its failure is logged like the tick's.
     */
    alsoEachTick?: () => Promise<void>;
  },
): DispatcherLoop {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let stopping = false;
  const tick = () => {
    // One drain at a time in a process: node-cron's noOverlap does not cover the first tick,
    // started by hand below, and two drains would claim twice the batch.
    if (stopping || busy) return running;
    busy = true;
    running = drainDue(deps, options.now, () => stopping)
      .then(async (counts) => {
        if (Object.values(counts).some((n) => n > 0)) options.log.info({ ...counts }, 'dispatched');
        await noteTick(deps, { sent: counts.sent });
        if (stopping) return;
        const digests = await sendDueDigests(deps, options.now);
        if (digests !== undefined && Object.values(digests).some((n) => n > 0))
          options.log.info({ ...digests }, 'manager digests');
        if (!stopping) await options.alsoEachTick?.();
      })
      .catch(async (error: unknown) => {
        options.log.error(
          { err: messageOf(error) },
          'dispatch tick failed; retrying at the next tick',
        );
        await noteTick(deps, { sent: 0, error: messageOf(error) });
      })
      .finally(() => {
        busy = false;
        options.afterTick?.();
      });
    return running;
  };
  const task = cron.schedule(options.every ?? '*/5 * * * * *', tick, { noOverlap: true });
  void tick();
  return {
    async stop() {
      stopping = true;
      await task.stop();
      await running;
    },
  };
}
