/**
 * Replies handled in batches (#17): what a mailbox drain fetched, recorded and acted on in one
 * transaction with the reads prefetched and the common writes grouped, with the same verdicts
 * and effects as `handleInbound` one message after another.
 */
import type { InboundItem, InboundVerdict } from '../inbound/source.js';
import { deliveryFromMessageId } from '../mail/headers.js';
import { tokenFromAddress, verifyReplyToken } from '../mail/tokens.js';
import type { SentContext } from '../replies/decide.js';
import { storableRead } from '../replies/storable.js';
import type { ReadMessage } from '../replies/types.js';
import {
  act,
  handleInbound,
  recordOf,
  type InboundRecord,
  type PrefetchedReads,
  type ProgressEvent,
  type QueuedAcknowledgement,
  type ReplyDependencies,
  type ReplyStore,
} from './replies.js';

/** The most replies one batch transaction takes: well under PostgreSQL's 65,535 parameters. */
const maxBatch = 200;

/**
 * `handleInbound` for many messages at once, with the same verdicts and the same effects as
 * handling them one after another in this order (#17): a mailbox drain hands over what it
 * fetched. The replies of a batch are read first; then one transaction records them all,
 * fetches what matching and deciding need in four queries (`ReplyStore.prefetch`), acts on each
 * in order, and writes their progress events, outcomes and acknowledgements in one statement
 * each. What the prefetch cannot answer (a command that changes the plan, a bounce, a manager,
 * a learner's second reply in the batch) is handled as `handleInbound` would, inside the same
 * transaction, after the writes before it.
 *
 * All or nothing per batch, so all or nothing per message: if anything in the transaction
 * fails, none of it stays and every message is handled again one at a time by `handleInbound`,
 * which parks a poison message on its own. Unreadable messages, repaired headers and a
 * Message-ID seen before (or twice in the batch) go that way too, after the batch.
 *
 * `after` is the batch handed over before this one, still being handled: a drain keeps one
 * batch in flight while it fetches the next (`InboundBatchHandler`). Reading starts at once and
 * is CPU only, so it overlaps that batch's waits on the database; nothing is recorded until
 * `after` has ended, so effects keep the order of the messages. If `after` failed, nothing of
 * this batch is recorded either: it rejects with the same error, and the drain hands both over
 * again, in order.
 */
export async function handleInboundBatch(
  deps: ReplyDependencies,
  items: readonly InboundItem[],
  after?: Promise<unknown>,
): Promise<InboundVerdict[]> {
  const chunks: (readonly InboundItem[])[] = [];
  for (let start = 0; start < items.length; start += maxBatch)
    chunks.push(items.slice(start, start + maxBatch));
  const reading = chunks.map((chunk) => readChunk(deps, chunk));
  // Each read is awaited below, once `after` has ended; none may fail unobserved before then.
  for (const read of reading) read.catch(() => undefined);
  await after;
  const verdicts: InboundVerdict[] = [];
  for (const [n, chunk] of chunks.entries())
    verdicts.push(...(await recordChunk(deps, chunk, await reading[n]!)));
  return verdicts;
}

interface ReadChunk {
  readonly now: Date;
  /** The messages recorded together; the others go to `handleInbound` after them. */
  readonly batch: readonly { index: number; read: ReadMessage; record: InboundRecord }[];
}

/** Reads a chunk's messages: CPU only, nothing written. */
async function readChunk(
  deps: ReplyDependencies,
  items: readonly InboundItem[],
): Promise<ReadChunk> {
  const now = deps.now();
  const batch: { index: number; read: ReadMessage; record: InboundRecord }[] = [];
  const keys = new Set<string>();
  // All asked at once: a reader in a thread of its own (src/replies/read-in-thread.ts) reads the
  // next while this thread takes the answers, in order.
  const reading = items.map((item) =>
    deps.read(item.raw).then(
      (read) => read,
      () => undefined, // unreadable: parked by handleInbound after the batch
    ),
  );
  for (const [index, item] of items.entries()) {
    const read = await reading[index]!;
    if (read === undefined) continue;
    const storable = storableRead(read);
    const record = recordOf(item, storable, now);
    if (storable.repairs.length > 0 || keys.has(record.messageId)) continue;
    keys.add(record.messageId);
    batch.push({ index, read: storable.read, record });
  }
  return { now, batch };
}

async function recordChunk(
  deps: ReplyDependencies,
  items: readonly InboundItem[],
  { now, batch }: ReadChunk,
): Promise<InboundVerdict[]> {
  const verdicts: (InboundVerdict | undefined)[] = items.map(() => undefined);
  if (batch.length > 1) {
    try {
      await deps.store.transaction(async (store) => {
        const ids = await store.recordInboundMany(batch.map((b) => b.record));
        const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
        const reads = await store.prefetch({
          deliveryIds: batch.flatMap((b) =>
            b.read.kind === 'reply' ? replyCandidates(deps, b.read) : [],
          ),
          since,
        });
        const batched = batchedStore(store, reads, since);
        for (const [n, { index, read }] of batch.entries()) {
          const id = ids[n];
          if (id === undefined) continue; // read before: handleInbound says where it was filed
          const store = batched.forMessage();
          await act({ ...deps, store }, id, read, items[index]!.raw, now, undefined);
          batched.done(store);
          verdicts[index] = 'processed';
        }
        await batched.flush();
      });
    } catch {
      // Nothing of the batch stayed: each message is handled on its own, and parked if it must.
      for (const { index } of batch) verdicts[index] = undefined;
    }
  }
  for (const [index, item] of items.entries()) verdicts[index] ??= await handleInbound(deps, item);
  return verdicts as InboundVerdict[];
}

/** The deliveries `matchReply` may look up by id: the signed reply addresses, then the thread. */
function replyCandidates(deps: ReplyDependencies, read: ReadMessage): number[] {
  const ids: number[] = [];
  for (const address of read.recipients) {
    const token = tokenFromAddress(address, deps.replyAddress);
    const verified = token === undefined ? undefined : verifyReplyToken(deps.secret, token);
    if (verified?.ok === true) ids.push(verified.deliveryId);
  }
  for (const id of read.threadIds) {
    const ref = deliveryFromMessageId(deps.secret, id);
    if (ref !== undefined) ids.push(ref.deliveryId);
  }
  return ids;
}

type MessageStore = ReplyStore & { readonly seen: SentContext[] };

/**
 * The store one message of a batch acts through. It answers the reads the prefetch holds and
 * keeps the common writes (progress, a processed outcome, an acknowledgement) to be written
 * together. Anything else, and any learner or enrolment an earlier message of the batch touched
 * (whose prefetched reads may be stale), turns the message to the transaction's own store for
 * the rest of its handling, once the writes kept so far are written: the order of effects is
 * the order of the messages.
 */
function batchedStore(store: ReplyStore, reads: PrefetchedReads, since: Date) {
  const events: ProgressEvent[] = [];
  const settled: Parameters<ReplyStore['settleProcessedMany']>[0][number][] = [];
  const acks: QueuedAcknowledgement[] = [];
  let settledAt: Date | undefined;
  let acksAt: Date | undefined;
  const touchedLearners = new Set<number>();
  const touchedEnrolments = new Set<number>();
  // Once a message went to the store itself, a delivery not prefetched may have changed since.
  let anyDirect = false;

  async function flush() {
    await store.addProgressMany(events.splice(0));
    if (settledAt !== undefined) await store.settleProcessedMany(settled.splice(0), settledAt);
    if (acksAt !== undefined) await store.queueAcknowledgementMany(acks.splice(0), acksAt);
  }

  const touched = (sent: SentContext) =>
    touchedLearners.has(sent.learnerId) || touchedEnrolments.has(sent.enrolmentId);

  function forMessage(): MessageStore {
    let direct = false;
    const seen: SentContext[] = [];
    /** From here on this message reads and writes through the store itself. */
    const goDirect = async () => {
      if (!direct) await flush();
      direct = true;
      anyDirect = true;
    };
    const passOn =
      <A extends unknown[], R>(method: (...args: A) => Promise<R>, marks?: (...args: A) => void) =>
      async (...args: A): Promise<R> => {
        await goDirect();
        marks?.(...args);
        return method(...args);
      };
    const s: MessageStore = {
      seen,
      transaction: (work) => work(s),
      recordInbound: passOn(store.recordInbound.bind(store)),
      recordInboundMany: passOn(store.recordInboundMany.bind(store)),
      prefetch: passOn(store.prefetch.bind(store)),
      addProgressMany: passOn(store.addProgressMany.bind(store)),
      settleProcessedMany: passOn(store.settleProcessedMany.bind(store)),
      queueAcknowledgementMany: passOn(store.queueAcknowledgementMany.bind(store)),
      async sent(by) {
        if (!direct && 'deliveryId' in by) {
          const found = reads.sent.get(by.deliveryId);
          if (found !== undefined && !touched(found)) {
            seen.push(found);
            return found;
          }
          if (found === undefined && !anyDirect) return undefined;
        }
        await goDirect();
        const found = await store.sent(by);
        if (found !== undefined) seen.push(found);
        return found;
      },
      async progressOf(enrolmentId, week) {
        const done = direct ? undefined : reads.weeksDone.get(enrolmentId);
        if (done !== undefined)
          return { weeksDone: done.size, thisWeekDone: done.has(String(week)) };
        await goDirect();
        return store.progressOf(enrolmentId, week);
      },
      async acknowledgementsSince(learnerId, from) {
        const count = direct ? undefined : reads.acknowledgements.get(learnerId);
        if (count !== undefined && from.getTime() === since.getTime()) return count;
        await goDirect();
        return store.acknowledgementsSince(learnerId, from);
      },
      async assignmentOf(enrolmentId, week) {
        const key = `${enrolmentId}:${week}`;
        if (!direct && reads.assignments.has(key)) return reads.assignments.get(key);
        await goDirect();
        return store.assignmentOf(enrolmentId, week);
      },
      async addProgress(event) {
        if (direct) return store.addProgress(event);
        events.push(event);
      },
      async settleInbound(id, outcome, now) {
        if (!direct && outcome.status === 'processed' && outcome.reason !== undefined) {
          settled.push({
            id,
            reason: outcome.reason,
            ...(outcome.learnerId === undefined ? {} : { learnerId: outcome.learnerId }),
            ...(outcome.deliveryId === undefined ? {} : { deliveryId: outcome.deliveryId }),
          });
          settledAt = now;
          return;
        }
        await goDirect();
        return store.settleInbound(id, outcome, now);
      },
      async queueAcknowledgement(ack, now) {
        if (direct) return store.queueAcknowledgement(ack, now);
        acks.push(ack);
        acksAt = now;
      },
      proposalOf: passOn(store.proposalOf.bind(store)),
      skipWeek: passOn(store.skipWeek.bind(store), (enrolmentId) =>
        touchedEnrolments.add(enrolmentId),
      ),
      stopEnrolment: passOn(store.stopEnrolment.bind(store), (enrolmentId) =>
        touchedEnrolments.add(enrolmentId),
      ),
      unsubscribe: passOn(store.unsubscribe.bind(store), (learnerId) =>
        touchedLearners.add(learnerId),
      ),
      softBouncesOf: passOn(store.softBouncesOf.bind(store)),
      markBounced: passOn(store.markBounced.bind(store), (learnerId) =>
        touchedLearners.add(learnerId),
      ),
      unsubscribeManager: passOn(store.unsubscribeManager.bind(store)),
      manager: passOn(store.manager.bind(store)),
      addManagerReply: passOn(store.addManagerReply.bind(store)),
      // Intake answers (a reply to the welcome) change the profile and maybe the programme.
      intakeOf: passOn(store.intakeOf.bind(store)),
      updateProfile: passOn(store.updateProfile.bind(store), (learnerId) =>
        touchedLearners.add(learnerId),
      ),
      latestProgrammes: passOn(store.latestProgrammes.bind(store)),
      moveForIntake: passOn(store.moveForIntake.bind(store)),
      shifts: () => {
        // A pause or resume: the plan changes go to the store itself, after the writes kept.
        const shifts = store.shifts();
        const first =
          <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
          async (...args: A): Promise<R> => {
            await goDirect();
            return method(...args);
          };
        return {
          transaction: first(shifts.transaction.bind(shifts)),
          plan: first(shifts.plan.bind(shifts)),
          applyPlanChange: first(shifts.applyPlanChange.bind(shifts)),
          recordPause: first(shifts.recordPause.bind(shifts)),
          pausedWeeks: first(shifts.pausedWeeks.bind(shifts)),
        };
      },
    };
    return s;
  }

  return {
    forMessage,
    /** The message is handled: later messages of its learner and enrolment read the store. */
    done(s: MessageStore) {
      for (const sent of s.seen) {
        touchedLearners.add(sent.learnerId);
        touchedEnrolments.add(sent.enrolmentId);
      }
    },
    flush,
  };
}
