/**
 * Where learners' replies come from: an IMAP mailbox (`imap-source.ts`) or, embedded, a Maildir
 * folder (`maildir-source.ts`). A source hands each message to the handler once it is complete,
 * then files it away by the handler's verdict. Nothing is ever deleted: a message that was
 * handled goes to `Processed`, one the handler could not read to `Failed`, where a person can
 * look at it.
 */

export interface InboundItem {
  /** The message exactly as the server or the file holds it. */
  readonly raw: Buffer;
  /** The mailbox (or Maildir folder) it was read from, for logs. */
  readonly mailbox: string;
  /** Its IMAP UID; undefined for a Maildir file. */
  readonly uid: number | undefined;
}

/** processed: moved to `Processed`; failed (unreadable): moved to `Failed`. */
export type InboundVerdict = 'processed' | 'failed';

/**
 * Reads one message and records what it says. It must be idempotent by Message-ID: a source may
 * hand the same message twice (after a lost connection, a crash between handling and moving it,
 * or a mailbox whose UIDVALIDITY changed), and the second time must change nothing.
 *
 * It throws only for trouble of its own (the database is down): the message then stays where it
 * is and is handed over again later.
 */
export type InboundHandler = (item: InboundItem) => Promise<InboundVerdict>;

/**
 * The handler for many messages at once (`handleInboundBatch`), as a source fetched them: a
 * verdict for each, in order, with what `InboundHandler` promises for each message. A source
 * still files each away and records its place one message at a time, after the batch: a crash
 * in between hands the rest over again, which the Message-ID check makes harmless.
 */
export type InboundBatchHandler = (items: readonly InboundItem[]) => Promise<InboundVerdict[]>;

export interface MailSource {
  /** Starts listening: messages already waiting are read, and new ones as they arrive. */
  start(): Promise<void>;
  /** Drains what is there now; resolves with the number of messages handed to the handler. */
  poll(): Promise<number>;
  /** Stops listening, lets the message in hand finish, and closes the connection. */
  stop(): Promise<void>;
}

/** The log a source writes to: pino's `(fields, message)` calls. */
export interface SourceLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
