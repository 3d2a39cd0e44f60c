import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { GymDatabase } from '../db/database.js';
import { holdMailboxLock, mailboxCursor, type MailboxLock } from '../db/mailbox-store.js';
import { replyStore } from '../db/reply-store.js';
import { handleInboundBatch } from '../engine/replies-batch.js';
import { handleInbound, type ReplyDependencies } from '../engine/replies.js';
import { imapSource, parseImapUrl } from '../inbound/imap-source.js';
import { maildirSource } from '../inbound/maildir-source.js';
import { mailSignIn } from '../mail/create-transport.js';
import { threadReader } from '../replies/read-in-thread.js';
import type { InboundBatchHandler, MailSource, SourceLog } from '../inbound/source.js';

export interface ReplyListener {
  /** Where replies are read from, for the start-up log line (no password). */
  readonly where: string;
  /** Reads what is waiting now (for `gym run --once`), when this worker holds the mailbox. */
  poll(): Promise<number>;
  stop(): Promise<void>;
}

/** How often a worker that does not hold the mailbox tries to take it over. */
const takeoverIntervalMs = 30_000;

export function replyDependencies(
  config: Config,
  database: GymDatabase,
  now: () => Date,
  read: ReplyDependencies['read'],
): ReplyDependencies {
  return {
    store: replyStore(database.db),
    read,
    secret: config.secret,
    replyAddress: config.replyAddress,
    now,
  };
}

/**
 * The reply side of `gym run`: IMAP_URL's mailbox when one is configured, else the embedded
 * Maildir `.gym/inbox`. With IMAP, one worker of many reads the mailbox: the one holding its
 * advisory lock. The others try again every 30 seconds, so when the reader dies (its database
 * session ends and the lock with it) another takes over.
 */
export async function startReplyListener(options: {
  config: Config;
  database: GymDatabase;
  now: () => Date;
  log: SourceLog;
  /** False for `--once`: read what is there, do not listen. */
  listen: boolean;
  /** How often a worker without the mailbox tries to take it over; 30 s by default. */
  takeoverIntervalMs?: number;
  /**
   * Told whether the mailbox this worker reads answers: a reason while it does not, undefined
   * once it does (or when this worker no longer reads it). For /healthz.
   */
  onMailboxStatus?: (problem: string | undefined) => void;
}): Promise<ReplyListener> {
  const { config, database, log } = options;
  // Replies are read in a thread of their own, on another core than the one recording them.
  const reader = threadReader();
  const deps = replyDependencies(config, database, options.now, (raw) => reader.read(raw));
  const handler = (item: Parameters<typeof handleInbound>[1]) => handleInbound(deps, item);
  // What a drain fetched together is handled together: a few statements a batch, not a reply.
  const batchHandler: InboundBatchHandler = (items, after) =>
    handleInboundBatch(deps, items, after);

  if (config.imapUrl === undefined) {
    const dir = join(config.dataDir, 'inbox');
    const source = maildirSource({ dir, handler, batchHandler, logger: log });
    if (options.listen) await source.start();
    return {
      where: `maildir ${dir}`,
      poll: () => source.poll(),
      stop: async () => {
        await source.stop();
        await reader.close();
      },
    };
  }

  const address = parseImapUrl(config.imapUrl);
  const where = `imap ${address.auth.user}@${address.host}:${address.port}/${address.mailbox}`;
  // Advisory locks are the whole server's, not a schema's: the port is part of which mailbox it
  // is (two test Dovecots on one host, or two instances behind one name, are two mailboxes).
  const lockName = `${address.auth.user}@${address.host}:${address.port}/${address.mailbox}`;
  let lock: MailboxLock | undefined;
  let source: MailSource | undefined;
  let stopped = false;

  const tryToHold = async (): Promise<boolean> => {
    if (source !== undefined) return true;
    lock = await holdMailboxLock(database, lockName, {
      url: config.databaseUrl,
      onLost: (error) => {
        log.warn({ mailbox: where, reason: error.message }, 'lost the mailbox lock; stepping back');
        const lostSource = source;
        source = undefined;
        lock = undefined;
        options.onMailboxStatus?.(undefined);
        void lostSource?.stop();
      },
    });
    if (lock === undefined) return false;
    source = imapSource({
      url: config.imapUrl,
      oauth2: mailSignIn(config),
      handler,
      batchHandler,
      cursor: mailboxCursor(database.db),
      logger: log,
      onStatus: options.onMailboxStatus,
    });
    if (options.listen) await source.start();
    log.info({ mailbox: where, lock: lock.key }, 'this worker reads the mailbox');
    return true;
  };

  const held = await tryToHold();
  if (!held) log.info({ mailbox: where }, 'another worker reads the mailbox; this one sends only');
  const takeover = options.listen
    ? setInterval(() => {
        if (stopped || source !== undefined) return;
        tryToHold().catch((error: unknown) =>
          log.warn({ mailbox: where, reason: String(error) }, 'could not take the mailbox over'),
        );
      }, options.takeoverIntervalMs ?? takeoverIntervalMs)
    : undefined;
  takeover?.unref();

  return {
    where,
    poll: async () => (source === undefined ? 0 : source.poll()),
    stop: async () => {
      stopped = true;
      if (takeover !== undefined) clearInterval(takeover);
      await source?.stop();
      await lock?.release();
      await reader.close();
    },
  };
}
