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
 *
 * `after` is the batch handed over before, when it is still being handled (`drainInOrder`): the
 * handler may start on this batch (read it) at once, but records nothing before `after` has
 * ended, and nothing at all if it failed (it then rejects too).
 */
export type InboundBatchHandler = (
  items: readonly InboundItem[],
  after?: Promise<unknown>,
) => Promise<InboundVerdict[]>;

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

/**
 * A source's drain, once it has listed what waits: takes the messages batch by batch (`fetched`
 * yields each batch once it is complete), hands each batch to the handler, and files each
 * message away by its verdict (`file`), in order.
 *
 * One batch is in flight: the next batch is fetched and handed over while the handler still
 * records the one before, so its reading overlaps that batch's waits on the database (and the
 * fetch overlaps both); the batch before is filed away after that fetch has ended, so the
 * source's own commands never run during a fetch. The handler records the batches in the order
 * they were handed over (`InboundBatchHandler`). A batch of one message, or any batch when there
 * is no batch handler, is handled one message at a time while it is filed, with nothing else in
 * flight. When `stopping` turns true, the batches handed over are finished and filed, and no
 * more is fetched or handled. Returns how many messages were filed. A handler or `file` that
 * throws ends the drain; what was not filed is handed over again by the next one, which the
 * Message-ID check makes harmless.
 */
export async function drainInOrder<M>(options: {
  readonly fetched: AsyncIterable<readonly M[]>;
  readonly handler: InboundHandler;
  readonly batchHandler: InboundBatchHandler | undefined;
  readonly itemOf: (message: M) => InboundItem;
  readonly file: (message: M, verdict: InboundVerdict) => Promise<void>;
  readonly stopping: () => boolean;
}): Promise<number> {
  const { handler, batchHandler, itemOf } = options;
  let filed = 0;
  const fileBatch = async ({ messages, verdicts }: HandedOver<M>) => {
    const batchVerdicts = await verdicts;
    for (const [n, message] of messages.entries()) {
      // Stopping: what is handled is filed, nothing more is handled.
      if (options.stopping() && batchVerdicts === undefined) return;
      await options.file(message, batchVerdicts?.[n] ?? (await handler(itemOf(message))));
      filed += 1;
    }
  };
  // The batch being recorded, and the one just handed over while it is filed.
  let inFlight: HandedOver<M> | undefined;
  let next: HandedOver<M> | undefined;
  try {
    for await (const messages of options.fetched) {
      if (options.stopping()) break;
      // A batch handled one message at a time is filed before the next is handed over.
      if (inFlight !== undefined && inFlight.verdicts === undefined) {
        await fileBatch(inFlight);
        inFlight = undefined;
      }
      const verdicts =
        batchHandler === undefined || messages.length < 2
          ? undefined
          : batchHandler(messages.map(itemOf), inFlight?.verdicts);
      // Awaited when the batch is filed; if the drain fails first, its failure is not left
      // unobserved (an unhandled rejection ends the process).
      verdicts?.catch(() => undefined);
      next = { messages, verdicts };
      if (inFlight !== undefined) await fileBatch(inFlight);
      inFlight = next;
      next = undefined;
    }
    if (inFlight !== undefined) await fileBatch(inFlight);
  } finally {
    // Nothing handed over is left running when the drain returns or fails.
    for (const handedOver of [inFlight, next]) await handedOver?.verdicts?.catch(() => undefined);
  }
  return filed;
}

interface HandedOver<M> {
  readonly messages: readonly M[];
  /** The batch handler's verdicts; undefined when the batch is handled one message at a time. */
  readonly verdicts: Promise<InboundVerdict[]> | undefined;
}
