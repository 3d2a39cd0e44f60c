import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { GymError, messageOf } from '../errors.js';
import type { GymDatabase } from './database.js';
import type { Database } from './schema.js';

/** How far the reader got in one mailbox: the last UID it finished, under one UIDVALIDITY. */
export interface MailboxPosition {
  /** IMAP UIDVALIDITY, a 32-bit unsigned number kept as its decimal text. */
  readonly uidValidity: string;
  readonly lastUid: number;
}

export interface MailboxCursor {
  get(mailbox: string): Promise<MailboxPosition | undefined>;
  /**
   * Records that every message up to `lastUid` is done. Never moves backwards under the same
   * UIDVALIDITY (two drains finishing out of order leave the larger); a different UIDVALIDITY
   * means the server renumbered the mailbox, so the old position is meaningless and is replaced.
   */
  advance(mailbox: string, uidValidity: string, lastUid: number): Promise<void>;
}

/** The processed-UID cursor of each mailbox, in `mailbox_cursors`. */
export function mailboxCursor(db: Kysely<Database>): MailboxCursor {
  return {
    async get(mailbox) {
      const row = await db
        .selectFrom('mailbox_cursors')
        .select(['uid_validity', 'last_uid'])
        .where('mailbox', '=', mailbox)
        .executeTakeFirst();
      return row === undefined
        ? undefined
        : { uidValidity: row.uid_validity, lastUid: Number(row.last_uid) };
    },
    async advance(mailbox, uidValidity, lastUid) {
      if (!/^[0-9]+$/.test(uidValidity)) {
        throw new RangeError(`UIDVALIDITY must be a decimal number, not ${uidValidity}`);
      }
      if (!Number.isSafeInteger(lastUid) || lastUid < 0) {
        throw new RangeError(`a UID must be a whole number >= 0, not ${lastUid}`);
      }
      // One statement, so two workers (or a worker and a stale drain) cannot interleave a read
      // and a write and move the cursor back.
      await sql`
        insert into mailbox_cursors (mailbox, uid_validity, last_uid)
        values (${mailbox}, ${uidValidity}, ${lastUid})
        on conflict (mailbox) do update set
          last_uid = case
            when mailbox_cursors.uid_validity = excluded.uid_validity
              then greatest(mailbox_cursors.last_uid, excluded.last_uid)
            else excluded.last_uid
          end,
          uid_validity = excluded.uid_validity,
          updated_at = now()`.execute(db);
    },
  };
}

export interface MailboxLock {
  /** The advisory lock key (a signed 64-bit number), for logs and for pg_locks. */
  readonly key: string;
  /** False once released, or once the connection holding it was lost (the lock went with it). */
  readonly held: boolean;
  /** Lets go of the lock and closes its connection. Safe to call twice. */
  release(): Promise<void>;
}

export interface MailboxLockOptions {
  /**
   * For PostgreSQL: the DATABASE_URL to open the lock's own connection with (the GymDatabase's
   * pool does not reveal it). Ignored for PGlite.
   */
  readonly url?: string | undefined;
  /** Told when the connection holding the lock is lost: another worker may take over now. */
  readonly onLost?: ((error: Error) => void) | undefined;
}

/**
 * One worker at a time reads a mailbox. On PostgreSQL that worker holds a session-level advisory
 * lock, keyed by the mailbox name, on a connection of its own kept open for as long as it
 * listens: when the process dies, the server closes the session and the lock frees itself, so
 * another worker's next try takes over. Resolves undefined when another session holds it.
 *
 * The connection is a dedicated `pg.Client`, not one borrowed from the pool: a pooled client
 * held idle for hours has no `error` listener while it is checked out, so a server restart would
 * crash the process; and the lock must outlive any query, which a pool does not promise.
 *
 * PGlite has one process by construction (the embedded lock on its folder), so the lock is
 * always granted there.
 *
 * `mailbox` names the account as well as the folder (`engine@example.org@imap.example.org/INBOX`)
 * when workers of different deployments share a database.
 */
export async function holdMailboxLock(
  database: GymDatabase,
  mailbox: string,
  options: MailboxLockOptions = {},
): Promise<MailboxLock | undefined> {
  const key = advisoryKey(mailbox);
  if (database.kind === 'pglite') {
    let held = true;
    return {
      key,
      get held() {
        return held;
      },
      release: async () => {
        held = false;
      },
    };
  }
  if (options.url === undefined) {
    throw new GymError(
      'CONFIG_INVALID',
      `holding the lock of mailbox ${mailbox} on ${database.location} needs the DATABASE_URL ` +
        'for a connection of its own',
      { mailbox },
    );
  }

  const client = new pg.Client({ connectionString: options.url });
  let held = false;
  let released = false;
  // Without a listener, an 'error' on this idle connection (the server restarting, an
  // administrator's pg_terminate_backend) would be thrown as an uncaught exception.
  client.on('error', (error: Error) => lost(error));
  client.on('end', () => lost(new Error('the connection holding the mailbox lock closed')));
  function lost(error: Error) {
    if (!held) return;
    held = false;
    if (!released) options.onLost?.(error);
  }

  try {
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>(
      'select pg_try_advisory_lock($1::bigint) as locked',
      [key],
    );
    if (rows[0]?.locked !== true) {
      await client.end();
      return undefined;
    }
  } catch (cause) {
    await client.end().catch(() => {});
    throw new GymError(
      'DATABASE_UNREACHABLE',
      `cannot take the lock of mailbox ${mailbox} on ${database.location}: ${messageOf(cause)}`,
      { mailbox },
      { cause },
    );
  }
  held = true;
  return {
    key,
    get held() {
      return held;
    },
    async release() {
      if (released) return;
      released = true;
      const wasHeld = held;
      held = false;
      // Closing the session frees a session-level lock anyway; the explicit unlock only makes
      // the hand-over immediate should the close be slow.
      if (wasHeld) {
        await client.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
      }
      await client.end().catch(() => {});
    },
  };
}

/**
 * A stable 64-bit key for a mailbox name: the first 8 bytes of SHA-256, as PostgreSQL's signed
 * bigint. Computed here rather than with `hashtext()` so it cannot change with the server's
 * version, and prefixed so it does not collide with advisory locks of other software.
 */
function advisoryKey(mailbox: string): string {
  const digest = createHash('sha256').update(`digital-gym mailbox\0${mailbox}`).digest();
  return digest.readBigInt64BE(0).toString();
}
