import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What `gym status` shows: the outbox queue, recent sending, and the reply mailbox. */
export interface EngineStatus {
  readonly at: Date;
  readonly queue: {
    /** Due now and not yet sent: pending (retries whose time has come included) or claimed. */
    readonly dueNow: number;
    readonly dueNext24h: number;
    /** Waiting for another try after a temporary failure, with the commonest last errors. */
    readonly retrying: number;
    readonly retryReasons: readonly { readonly reason: string; readonly rows: number }[];
    readonly failedLast7Days: number;
    readonly failedReasons: readonly { readonly reason: string; readonly rows: number }[];
    /** Held by a worker right now. */
    readonly claimed: number;
  };
  readonly sent: {
    readonly lastMinute: number;
    readonly last24h: number;
    /** The rate of the last 5 minutes, messages a second; 0 when nothing went out. */
    readonly recentPerSecond: number;
  };
  /** Each worker's last tick (database clock), newest first. */
  readonly workers: readonly {
    readonly worker: string;
    readonly lastTickAt: Date;
    readonly sent: number;
    readonly error: string | undefined;
  }[];
  readonly mailboxes: readonly {
    readonly mailbox: string;
    readonly uidValidity: string;
    readonly lastUid: number;
    readonly updatedAt: Date;
  }[];
  readonly replies: {
    readonly lastReadAt: Date | undefined;
    /** Held for a person: `gym inbox`. */
    readonly waitingForYou: number;
  };
}

const count = (value: unknown) => Number(value ?? 0);

/**
 * Reads the engine's state as of `now` (the CLI's clock, so that `--clock` agrees with
 * `gym run --clock`). Plain aggregate queries over indexed columns; safe while workers run.
 */
export async function readEngineStatus(db: Kysely<Database>, now: Date): Promise<EngineStatus> {
  const at = now.toISOString();
  const queue = await sql<{
    due_now: unknown;
    due_next_24h: unknown;
    retrying: unknown;
    failed_7d: unknown;
    claimed: unknown;
  }>`
    select
      count(*) filter (where status = 'pending' and coalesce(retry_at, due_at) <= ${at}::timestamptz
                       or status = 'claimed') as due_now,
      count(*) filter (where status = 'pending' and coalesce(retry_at, due_at) > ${at}::timestamptz
                       and coalesce(retry_at, due_at) <= ${at}::timestamptz + interval '24 hours') as due_next_24h,
      count(*) filter (where status = 'pending' and attempts > 0) as retrying,
      count(*) filter (where status = 'failed' and updated_at > ${at}::timestamptz - interval '7 days') as failed_7d,
      count(*) filter (where status = 'claimed') as claimed
    from deliveries
    where status in ('pending', 'claimed', 'failed')`.execute(db);
  const reasons = async (where: ReturnType<typeof sql>) =>
    (
      await sql<{ reason: string; rows: unknown }>`
        select coalesce(reason, 'no reason recorded') as reason, count(*) as rows
        from deliveries where ${where}
        group by 1 order by 2 desc, 1 limit 5`.execute(db)
    ).rows.map((r) => ({ reason: r.reason, rows: count(r.rows) }));
  const retryReasons = await reasons(sql`status = 'pending' and attempts > 0`);
  const failedReasons = await reasons(
    sql`status = 'failed' and updated_at > ${at}::timestamptz - interval '7 days'`,
  );
  // Learner mail, digests and manager introductions share the relay: all count against it.
  const sent = await sql<{ last_minute: unknown; last_24h: unknown; last_5m: unknown }>`
    select
      count(*) filter (where sent_at > ${at}::timestamptz - interval '1 minute') as last_minute,
      count(*) as last_24h,
      count(*) filter (where sent_at > ${at}::timestamptz - interval '5 minutes') as last_5m
    from (
      select sent_at from deliveries where sent_at > ${at}::timestamptz - interval '24 hours' and sent_at <= ${at}::timestamptz
      union all
      select sent_at from manager_digests where sent_at > ${at}::timestamptz - interval '24 hours' and sent_at <= ${at}::timestamptz
      union all
      select sent_at from manager_introductions where sent_at > ${at}::timestamptz - interval '24 hours' and sent_at <= ${at}::timestamptz
    ) sent`.execute(db);
  const workers = await db
    .selectFrom('worker_ticks')
    .select(['worker', 'last_tick_at', 'sent', 'error'])
    .orderBy('last_tick_at', 'desc')
    .limit(20)
    .execute();
  const mailboxes = await db
    .selectFrom('mailbox_cursors')
    .select(['mailbox', 'uid_validity', 'last_uid', 'updated_at'])
    .orderBy('mailbox')
    .execute();
  const replies = await sql<{ last_read: Date | null; waiting: unknown }>`
    select max(created_at) as last_read,
           count(*) filter (where status in ('parked', 'quarantined')) as waiting
    from inbound_messages`.execute(db);
  const q = queue.rows[0];
  const s = sent.rows[0];
  const r = replies.rows[0];
  return {
    at: now,
    queue: {
      dueNow: count(q?.due_now),
      dueNext24h: count(q?.due_next_24h),
      retrying: count(q?.retrying),
      retryReasons,
      failedLast7Days: count(q?.failed_7d),
      failedReasons,
      claimed: count(q?.claimed),
    },
    sent: {
      lastMinute: count(s?.last_minute),
      last24h: count(s?.last_24h),
      recentPerSecond: count(s?.last_5m) / 300,
    },
    workers: workers.map((w) => ({
      worker: w.worker,
      lastTickAt: w.last_tick_at,
      sent: w.sent,
      error: w.error ?? undefined,
    })),
    mailboxes: mailboxes.map((m) => ({
      mailbox: m.mailbox,
      uidValidity: m.uid_validity,
      lastUid: m.last_uid,
      updatedAt: m.updated_at,
    })),
    replies: {
      lastReadAt:
        r?.last_read === null || r?.last_read === undefined ? undefined : new Date(r.last_read),
      waitingForYou: count(r?.waiting),
    },
  };
}
