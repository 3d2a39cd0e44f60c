import type { Kysely } from 'kysely';
import { removeMaildirMessagesBefore } from '../mail/maildir-files.js';
import type { Database } from './schema.js';

const dayMs = 24 * 60 * 60 * 1000;

/** What one retention run cleared, for the log line and `gym status`. */
export interface RetentionOutcome {
  readonly ranAt: string;
  readonly retainDays: number;
  /** Raw inbound messages stored before this instant were cleared. */
  readonly cutoff: string;
  readonly rawInboundCleared: number;
  readonly outboxFilesRemoved: number;
  readonly inboxFilesRemoved: number;
}

export interface RetentionOptions {
  readonly retainDays: number;
  readonly now: Date;
  /** The Maildir outbox, when mail goes there (no SMTP_URL). */
  readonly outboxDir?: string | undefined;
  /** The Maildir inbox, when replies come from it (no IMAP_URL): its read folders are cleared. */
  readonly inboxDir?: string | undefined;
}

/**
 * Retention (`GYM_RETAIN_RAW_DAYS`, default 90): the raw bytes of inbound mail stored more than
 * that many days ago (on our clock, not the sender's Date header) are cleared, keeping the row,
 * what the reader understood and the outcome; Maildir outbox files (and the Maildir inbox's
 * Processed and Failed copies) last written before then are removed. A message exactly at the
 * limit stays. Returns what it cleared.
 */
export async function clearExpiredRaw(
  db: Kysely<Database>,
  options: RetentionOptions,
): Promise<RetentionOutcome> {
  const cutoff = new Date(options.now.getTime() - options.retainDays * dayMs);
  const cleared = await db
    .updateTable('inbound_messages')
    .set({ raw: null, raw_cleared_at: options.now })
    .where('raw', 'is not', null)
    .where('created_at', '<', cutoff)
    .executeTakeFirst();
  const outbox =
    options.outboxDir === undefined
      ? 0
      : await removeMaildirMessagesBefore(options.outboxDir, cutoff);
  // Unread mail (the inbox's own new/ and cur/) waits for the listener, whatever its age.
  const inbox =
    options.inboxDir === undefined
      ? 0
      : await removeMaildirMessagesBefore(options.inboxDir, cutoff, ['.Processed', '.Failed']);
  return {
    ranAt: options.now.toISOString(),
    retainDays: options.retainDays,
    cutoff: cutoff.toISOString(),
    rawInboundCleared: Number(cleared.numUpdatedRows),
    outboxFilesRemoved: outbox,
    inboxFilesRemoved: inbox,
  };
}

/**
 * Runs retention at most once a day across every worker: the worker whose conditional update of
 * the `retention` row succeeds does it (a clock moved back by more than a day runs it again).
 * Undefined when another worker ran it in the last day.
 */
export async function dailyRetention(
  db: Kysely<Database>,
  options: RetentionOptions,
): Promise<RetentionOutcome | undefined> {
  const { now } = options;
  const dayAgo = new Date(now.getTime() - dayMs);
  const claimed = await db
    .insertInto('housekeeping')
    .values({ job: 'retention', last_run_at: now, outcome: JSON.stringify({ running: true }) })
    .onConflict((oc) =>
      oc
        .column('job')
        .doUpdateSet({ last_run_at: now })
        .where((eb) =>
          eb.or([
            eb('housekeeping.last_run_at', '<=', dayAgo),
            eb('housekeeping.last_run_at', '>', new Date(now.getTime() + dayMs)),
          ]),
        ),
    )
    .returning('job')
    .executeTakeFirst();
  if (claimed === undefined) return undefined;
  const outcome = await clearExpiredRaw(db, options);
  await db
    .updateTable('housekeeping')
    .set({ outcome: JSON.stringify(outcome) })
    .where('job', '=', 'retention')
    .where('last_run_at', '=', now)
    .execute();
  return outcome;
}

/** The last retention run, for `gym status`. */
export async function lastRetention(db: Kysely<Database>): Promise<RetentionOutcome | undefined> {
  const row = await db
    .selectFrom('housekeeping')
    .select('outcome')
    .where('job', '=', 'retention')
    .executeTakeFirst();
  if (row === undefined || row.outcome.ranAt === undefined) return undefined;
  return row.outcome as unknown as RetentionOutcome;
}
