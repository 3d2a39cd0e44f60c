import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { AcknowledgementPayload, ManagerReplyAction } from '../db/schema.js';
import type { InboundItem, InboundVerdict } from '../inbound/source.js';
import type { Intent, ReadMessage } from '../replies/types.js';
import { deliveryFromMessageId, digestFromMessageId } from '../mail/headers.js';
import {
  taggedTokenFromAddress,
  tokenFromAddress,
  unsubscribeTokenFromAddress,
  verifyDigestReplyToken,
  verifyManagerUnsubscribeToken,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../mail/tokens.js';
import { messageOf } from '../errors.js';
import { normaliseAddress } from '../consent/suppression.js';
import { meansUnsubscribe, parseIntent } from '../replies/intent.js';
import { storableRead, type StorableRead } from '../replies/storable.js';
import { pauseEndsAt, pauseEnrolment, resumeEnrolment, type ShiftStore } from './shift.js';

/** A delivery we sent, with the learner and enrolment a reply to it belongs to. */
export interface SentContext {
  readonly deliveryId: number;
  readonly enrolmentId: number;
  readonly enrolmentStatus: string;
  readonly learnerId: number;
  readonly learnerEmail: string;
  readonly zone: string;
  readonly week: number;
  readonly totalWeeks: number;
}

type HeldStatus = 'parked' | 'quarantined';

/** One inbound message as stored; `raw` is kept whenever it is held for a person to look at. */
export interface InboundRecord {
  readonly messageId: string;
  readonly mailbox: string;
  readonly uid: number | undefined;
  readonly receivedAt: Date;
  readonly from: string | undefined;
  readonly subject: string | undefined;
  readonly classification: ReadMessage['kind'] | 'unknown';
  readonly summary: Record<string, unknown>;
}

export type ProgressKind = Intent['type'] | 'rsvp';

/** What the reply handler needs from storage; `src/db/reply-store.ts` implements it. */
export interface ReplyStore {
  transaction<T>(work: (store: ReplyStore) => Promise<T>): Promise<T>;
  /**
   * Stores the message once; for a Message-ID read before, that row's status and whether it was
   * filed in Failed (unreadable, or its headers had to be repaired).
   */
  recordInbound(
    record: InboundRecord,
  ): Promise<{ id: number } | { duplicateOf: string; unreadable: boolean }>;
  settleInbound(
    id: number,
    outcome:
      | { status: 'processed'; learnerId?: number; deliveryId?: number; reason?: string }
      | {
          status: HeldStatus;
          reason: string;
          raw: Buffer;
          learnerId?: number;
          deliveryId?: number;
        },
    now: Date,
  ): Promise<void>;
  sentDelivery(deliveryId: number): Promise<SentContext | undefined>;
  /** The learner's open enrolment's latest sent delivery, found by address. */
  latestSentTo(email: string): Promise<SentContext | undefined>;
  /** The invite (or its update) with this calendar UID. */
  inviteByUid(uid: string): Promise<SentContext | undefined>;
  /** The delivery of the week's assignment, which a "done" marks (the week's first email otherwise). */
  assignmentOf(enrolmentId: number, week: number): Promise<number | undefined>;
  addProgress(event: {
    enrolmentId: number;
    deliveryId: number | undefined;
    inboundId: number;
    kind: ProgressKind;
    data: Record<string, unknown>;
    occurredAt: Date;
  }): Promise<void>;
  /** Weeks with a "done", after this reply. */
  weeksDone(enrolmentId: number): Promise<number>;
  skipWeek(enrolmentId: number, week: number, now: Date): Promise<number>;
  /**
   * "Stop the programme": ends this enrolment and records the stop (a suppression of scope
   * `programme:<id>`), so a re-import never starts that programme for them again.
   */
  stopEnrolment(enrolmentId: number, reason: string, now: Date): Promise<void>;
  /** "Unsubscribe": no more mail from us at all (a suppression of scope `all`). */
  unsubscribe(learnerId: number, now: Date, how: 'mailto' | 'reply'): Promise<void>;
  /** Verified soft bounces counted for the learner so far. */
  softBouncesOf(learnerId: number): Promise<number>;
  /** A hard bounce: the address is marked and suppressed until someone lifts it. */
  markBounced(learnerId: number, reason: string, now: Date): Promise<void>;
  /** A manager's "no more digests" (scope `digests`): their people's programmes go on. */
  unsubscribeManager(managerId: number, how: 'mailto' | 'reply', now: Date): Promise<void>;
  /** The manager a digest we sent went to. */
  managerOfDigest(digestId: number): Promise<number | undefined>;
  acknowledgementsSince(learnerId: number, since: Date): Promise<number>;
  queueAcknowledgement(
    ack: { enrolmentId: number; week: number; inboundId: number; payload: AcknowledgementPayload },
    now: Date,
  ): Promise<void>;
  /** The change-of-plan store inside this transaction (pause, resume). */
  shifts(): ShiftStore;
  managerByEmail(email: string): Promise<number | undefined>;
  /** The people a manager manages, to find whom "Talked to Sam" is about. */
  managerTeam(
    managerId: number,
  ): Promise<{ learnerId: number; firstName: string; lastName: string }[]>;
  addManagerReply(reply: {
    managerId: number;
    inboundId: number;
    digestId: number | undefined;
    learnerId: number | undefined;
    action: ManagerReplyAction;
    text: string;
    occurredAt: Date;
  }): Promise<void>;
}

export interface ReplyDependencies {
  readonly store: ReplyStore;
  readonly read: (raw: Buffer) => Promise<ReadMessage>;
  readonly secret: string;
  /** Our reply mailbox (`progress@gym.example`), whose plus-addresses carry the tokens. */
  readonly replyAddress: string;
  readonly now: () => Date;
  /** Acknowledgements per learner per 24 hours, so that two robots can never loop. */
  readonly acknowledgementsPerDay?: number;
}

/** Programme-changing commands: only a reply carrying the learner's signed token may give them. */
const commands: ReadonlySet<Intent['type']> = new Set(['stop', 'pause', 'skip', 'resume']);

type Match =
  | { readonly by: 'token' | 'thread' | 'from'; readonly sent: SentContext }
  | { readonly by: 'unsubscribe'; readonly learnerId: number }
  | { readonly by: 'manager-unsubscribe'; readonly managerId: number }
  | { readonly by: 'manager'; readonly managerId: number; readonly digestId: number | undefined }
  | { readonly by: 'none'; readonly why: string }
  | { readonly by: 'mismatch'; readonly sent: SentContext; readonly why: string };

/**
 * Reads one inbound message and acts on it: a progress event (once per Message-ID, whatever
 * happens to the mailbox), the effect of a command, a threaded acknowledgement. Unmatched or
 * suspicious mail is kept for a person (`gym inbox`); unreadable mail is parked and reported as
 * `failed` so the mailbox moves it aside. Never throws for a bad message.
 */
export async function handleInbound(
  deps: ReplyDependencies,
  item: InboundItem,
): Promise<InboundVerdict> {
  const now = deps.now();
  let read: ReadMessage;
  try {
    read = await deps.read(item.raw);
  } catch (error) {
    return parkUnreadable(deps, item, now, messageOf(error));
  }
  // Whatever a stranger wrote, in forms the database accepts (#16): one refused message must
  // never stop the mailbox at it.
  const storable = storableRead(read);
  const record = recordOf(item, storable, now);
  let failure: unknown;
  // Tried twice (a passing conflict or deadlock may succeed the second time), then parked so
  // that the source files it in Failed and reads on. When even parking fails, the database is
  // down: the error goes up and the message stays for the next try.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return await deps.store.transaction(async (store): Promise<InboundVerdict> => {
        const inbound = await store.recordInbound(record);
        // Read before: filed where it was filed the first time (only unreadable mail goes to Failed).
        if ('duplicateOf' in inbound) return inbound.unreadable ? 'failed' : 'processed';
        if (storable.repairs.length > 0) {
          // No mail client writes such headers: recorded, but nothing is done until a person
          // has looked (gym inbox assign), and the message goes to Failed.
          const kept = strangerRaw(item.raw);
          const reason =
            `its headers had to be repaired to be stored (${storable.repairs.join('; ')}); ` +
            `nothing was done. If it is a learner's, run gym inbox assign ${inbound.id} <their address>${kept.note}`;
          await store.settleInbound(inbound.id, { status: 'parked', reason, raw: kept.raw }, now);
          return 'failed';
        }
        await act({ ...deps, store }, inbound.id, storable.read, item.raw, now, undefined);
        return 'processed';
      });
    } catch (error) {
      failure = error;
    }
  }
  return parkUnstorable(deps, item, now, messageOf(failure));
}

/**
 * A trainer's decision from `gym inbox`: the held message belongs to this learner. It is acted
 * on as if it carried the learner's token (the trainer vouches for it).
 */
export async function assignHeld(
  deps: ReplyDependencies,
  held: { id: number; raw: Buffer },
  learnerEmail: string,
): Promise<{ applied: string } | { problem: string }> {
  const now = deps.now();
  let read: ReadMessage;
  try {
    read = await deps.read(held.raw);
  } catch (error) {
    return { problem: `message ${held.id} cannot be read (${messageOf(error)}); discard it` };
  }
  read = storableRead(read).read;
  return deps.store.transaction(async (store) => {
    const sent = await store.latestSentTo(learnerEmail.toLowerCase());
    if (sent === undefined)
      return { problem: `${learnerEmail} has no programme with an email sent to reply to` };
    const outcome = await act({ ...deps, store }, held.id, read, held.raw, now, sent);
    return { applied: outcome };
  });
}

async function parkUnreadable(
  deps: ReplyDependencies,
  item: InboundItem,
  now: Date,
  problem: string,
): Promise<InboundVerdict> {
  const head = item.raw.subarray(0, 64 * 1024).toString('latin1');
  const messageId =
    /^message-id:\s*(<[^>\r\n\0]{1,250}>)/im.exec(head)?.[1] ?? syntheticMessageId(item.raw);
  return parkWhole(deps, item, now, messageId, problem, `unreadable (${problem})`);
}

/**
 * A message read but refused by the database twice (a bug of ours, or a value `storableRead`
 * does not know yet): parked under its bytes' hash, so the mailbox files it in Failed and goes
 * on with the next one.
 */
async function parkUnstorable(
  deps: ReplyDependencies,
  item: InboundItem,
  now: Date,
  problem: string,
): Promise<InboundVerdict> {
  const why = `could not be stored (${problem.slice(0, 500)})`;
  return parkWhole(deps, item, now, syntheticMessageId(item.raw), problem, why);
}

/** Records a message nobody could place, parked with (at most `maxStrangerRawBytes` of) its bytes. */
async function parkWhole(
  deps: ReplyDependencies,
  item: InboundItem,
  now: Date,
  messageId: string,
  problem: string,
  why: string,
): Promise<InboundVerdict> {
  return deps.store.transaction(async (store): Promise<InboundVerdict> => {
    const inbound = await store.recordInbound({
      messageId,
      mailbox: item.mailbox,
      uid: item.uid,
      receivedAt: now,
      from: undefined,
      subject: undefined,
      classification: 'unknown',
      summary: { problem },
    });
    if ('duplicateOf' in inbound) return 'failed';
    const kept = strangerRaw(item.raw);
    await store.settleInbound(
      inbound.id,
      {
        status: 'parked',
        reason: `${why}; look at it with gym inbox (it is in the Failed folder)${kept.note}`,
        raw: kept.raw,
      },
      now,
    );
    return 'failed';
  });
}

/**
 * How much of a message from nobody we know is kept in the database: enough to read it in
 * `gym inbox`, never a stranger's 25 MiB. The whole message stays in the mailbox folder.
 */
export const maxStrangerRawBytes = 1024 * 1024;

function strangerRaw(raw: Buffer): { raw: Buffer; note: string } {
  if (raw.length <= maxStrangerRawBytes) return { raw, note: '' };
  return {
    raw: raw.subarray(0, maxStrangerRawBytes),
    note: `; only its first ${maxStrangerRawBytes} of ${raw.length} bytes are kept here`,
  };
}

/** A message without a Message-ID is still read once: its bytes name it. */
function syntheticMessageId(raw: Buffer): string {
  return `<sha256-${createHash('sha256').update(raw).digest('hex').slice(0, 40)}@inbound.invalid>`;
}

function recordOf(item: InboundItem, storable: StorableRead, now: Date): InboundRecord {
  const { read, key, writtenMessageId, repairs } = storable;
  return {
    messageId: key ?? syntheticMessageId(item.raw),
    mailbox: item.mailbox,
    uid: item.uid,
    receivedAt: read.date ?? now,
    from: read.from,
    subject: read.subject.slice(0, 500),
    classification: read.kind,
    summary: {
      kind: read.kind,
      evidence: read.evidence,
      text: read.text.slice(0, 2000),
      intent: read.intent,
      bounce: read.bounce,
      rsvp: read.rsvp,
      // The Message-ID as written, when it is stored under a hash (#16).
      ...(key !== undefined && key !== writtenMessageId ? { messageId: writtenMessageId } : {}),
      ...(repairs.length > 0 ? { repairs } : {}),
    },
  };
}

async function act(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  raw: Buffer,
  now: Date,
  assigned: SentContext | undefined,
): Promise<string> {
  const { store } = deps;
  switch (read.kind) {
    case 'auto_reply':
      // Out-of-office and other robots never count as progress and are never answered.
      await store.settleInbound(inboundId, { status: 'processed', reason: read.evidence }, now);
      return 'auto-reply ignored';
    case 'bounce':
      return actOnBounce(deps, inboundId, read, raw, now);
    case 'rsvp':
      return actOnRsvp(deps, inboundId, read, raw, now);
    case 'reply':
      break;
  }
  const match: Match = assigned ? { by: 'token', sent: assigned } : await matchReply(deps, read);
  const firstReading = read.intent ?? { type: 'empty' };
  if (match.by === 'none') {
    const kept = strangerRaw(raw);
    await store.settleInbound(
      inboundId,
      { status: 'parked', reason: `${match.why}${kept.note}`, raw: kept.raw },
      now,
    );
    return 'parked';
  }
  if (match.by === 'manager-unsubscribe') {
    await store.unsubscribeManager(match.managerId, 'mailto', now);
    const reason = 'manager unsubscribe address: no more digests';
    await store.settleInbound(inboundId, { status: 'processed', reason }, now);
    return 'manager unsubscribed from the digests';
  }
  if (match.by === 'manager' && firstReading.type === 'stop' && match.digestId === undefined) {
    // Only From says who it is, which anyone can write: held, like a learner's command.
    const reason =
      "a manager's stop without a digest's signed address or thread; if it is theirs, run " +
      `gym learner suppress ${read.from ?? 'EMAIL'} --scope digests`;
    await store.settleInbound(inboundId, { status: 'quarantined', reason, raw }, now);
    return 'quarantined';
  }
  if (match.by === 'manager' && firstReading.type === 'stop') {
    // "Stop" or "unsubscribe" in answer to a digest (its footer's link, when there is no web
    // page) ends the digests: a refusal, never counted as the manager's engagement.
    await store.unsubscribeManager(match.managerId, 'reply', now);
    const reason = 'the manager replied stop: no more digests';
    await store.settleInbound(inboundId, { status: 'processed', reason }, now);
    return 'manager unsubscribed from the digests';
  }
  if (match.by === 'manager') {
    const log = await recordManagerReply(deps, inboundId, read, match, now);
    await store.settleInbound(inboundId, { status: 'processed', reason: log }, now);
    return log;
  }
  if (match.by === 'unsubscribe') {
    await store.unsubscribe(match.learnerId, now, 'mailto');
    await store.settleInbound(
      inboundId,
      { status: 'processed', learnerId: match.learnerId, reason: 'unsubscribe address' },
      now,
    );
    return 'unsubscribed';
  }
  const { sent } = match;
  const held = { learnerId: sent.learnerId, deliveryId: sent.deliveryId };
  // "pause until 3 Jan" is the 3rd on the learner's calendar: read the date again in their zone.
  const intent =
    firstReading.type === 'pause'
      ? parseIntent(read.text, { sentAt: read.date ?? now, timeZone: sent.zone })
      : firstReading;
  if (match.by === 'mismatch') {
    const reason = match.why.replace('<id>', String(inboundId));
    await store.settleInbound(inboundId, { status: 'quarantined', reason, raw, ...held }, now);
    return 'quarantined';
  }
  if (commands.has(intent.type) && match.by !== 'token') {
    const reason =
      `"${intent.type}" changes the programme, and this reply does not carry the learner's ` +
      `signed address (matched by ${match.by}); if it is theirs, run gym inbox assign ${inboundId} ${sent.learnerEmail}`;
    await store.settleInbound(inboundId, { status: 'quarantined', reason, raw, ...held }, now);
    return 'quarantined';
  }
  const effect = await applyIntent(deps, inboundId, intent, read, sent, now);
  await store.settleInbound(inboundId, { status: 'processed', ...held, reason: effect.log }, now);
  if (effect.ack !== undefined) await acknowledge(deps, inboundId, read, sent, effect.ack, now);
  return effect.log;
}

async function matchReply(deps: ReplyDependencies, read: ReadMessage): Promise<Match> {
  const { store } = deps;
  for (const address of read.recipients) {
    const managerToken = taggedTokenFromAddress(address, deps.replyAddress, 'm');
    const managerId =
      managerToken === undefined
        ? undefined
        : verifyManagerUnsubscribeToken(deps.secret, managerToken);
    if (managerId !== undefined) return { by: 'manager-unsubscribe', managerId };
    const digestToken = taggedTokenFromAddress(address, deps.replyAddress, 'g');
    const digestId =
      digestToken === undefined ? undefined : verifyDigestReplyToken(deps.secret, digestToken);
    if (digestId !== undefined) {
      const manager = await store.managerOfDigest(digestId);
      if (manager !== undefined) return { by: 'manager', managerId: manager, digestId };
    }
    const unsubscribe = unsubscribeTokenFromAddress(address, deps.replyAddress);
    if (unsubscribe !== undefined) {
      const verified = verifyUnsubscribeToken(deps.secret, unsubscribe);
      if (verified.ok) return { by: 'unsubscribe', learnerId: verified.learnerId };
    }
    const token = tokenFromAddress(address, deps.replyAddress);
    if (token === undefined) continue;
    const verified = verifyReplyToken(deps.secret, token);
    if (!verified.ok) continue; // a forged or mangled token proves nothing; try the thread
    const sent = await store.sentDelivery(verified.deliveryId);
    if (sent === undefined) continue;
    // No sender at all is no proof either: anyone who saw the Reply-To could leave From out.
    if (read.from !== sent.learnerEmail) {
      return {
        by: 'mismatch',
        sent,
        why:
          `the reply address belongs to ${sent.learnerEmail} but the mail came from ${read.from ?? 'no sender address'}; ` +
          `held so that nobody changes another learner's programme. If it is theirs, run ` +
          `gym inbox assign <id> ${sent.learnerEmail}`,
      };
    }
    return { by: 'token', sent };
  }
  for (const id of read.threadIds) {
    const ref = deliveryFromMessageId(deps.secret, id);
    if (ref === undefined) continue;
    const sent = await store.sentDelivery(ref.deliveryId);
    if (sent !== undefined && read.from === sent.learnerEmail) return { by: 'thread', sent };
  }
  // A manager answering their digest ("Talked to Sam"): by the digest's thread or their address.
  const managerId = read.from === undefined ? undefined : await store.managerByEmail(read.from);
  if (managerId !== undefined) {
    const digestId = read.threadIds
      .map((id) => digestFromMessageId(deps.secret, id))
      .find((id) => id !== undefined);
    const learner = await store.latestSentTo(read.from!);
    if (digestId !== undefined || learner === undefined)
      return { by: 'manager', managerId, digestId };
  }
  if (read.from !== undefined) {
    const sent = await store.latestSentTo(read.from);
    if (sent !== undefined) return { by: 'from', sent };
  }
  return {
    by: 'none',
    why: `no signed reply address, no thread of ours and no learner at ${read.from ?? 'an unknown sender'}`,
  };
}

interface Effect {
  /** What happened, for the inbound row's reason and the logs. */
  readonly log: string;
  readonly ack?: { message: string; detail?: string };
}

async function applyIntent(
  deps: ReplyDependencies,
  inboundId: number,
  intent: Intent,
  read: ReadMessage,
  sent: SentContext,
  now: Date,
): Promise<Effect> {
  const { store } = deps;
  const occurredAt = read.date ?? now;
  const text = read.text.slice(0, 4000);
  const event = (kind: ProgressKind, data: Record<string, unknown>, deliveryId = sent.deliveryId) =>
    store.addProgress({
      enrolmentId: sent.enrolmentId,
      deliveryId,
      inboundId,
      kind,
      data: { week: sent.week, text, ...data },
      occurredAt,
    });
  const ended = sent.enrolmentStatus !== 'active';
  const week = sent.week;

  switch (intent.type) {
    case 'done': {
      const assignment = await store.assignmentOf(sent.enrolmentId, week);
      await event('done', {}, assignment ?? sent.deliveryId);
      const done = await store.weeksDone(sent.enrolmentId);
      return {
        log: `week ${week} done`,
        ack: { message: `Logged: week ${week} done. That's ${done} of ${sent.totalWeeks}.` },
      };
    }
    case 'too_hard':
      await event('too_hard', { flagged: true });
      return {
        log: `too hard in week ${week}: flagged for the trainer`,
        ack: {
          message: `Logged: week ${week} feels too hard. Your trainer will get in touch to help.`,
          detail: 'Try the smallest part of the assignment in the meantime: ten minutes is plenty.',
        },
      };
    case 'help':
      // The footer of every email promises that "help" lists what one can reply.
      await event('help', { flagged: true });
      return {
        log: `asked for help in week ${week}: flagged for the trainer`,
        ack: {
          message:
            'You can reply: done, too hard, pause for 2 weeks, pause until 3 January, resume, ' +
            'skip (the rest of this week), stop, or a rating such as 4/5. Anything else is kept ' +
            'as a reflection.',
          detail: 'Your trainer has been told you asked for help, and will get in touch.',
        },
      };
    case 'rating':
      await event('rating', { rating: intent.rating });
      return {
        log: `rated ${intent.rating}/5`,
        ack: { message: `Logged: you rated the programme ${intent.rating} out of 5. Thank you.` },
      };
    case 'reflection':
      await event('reflection', {});
      return {
        log: `reflection for week ${week}`,
        ack: { message: `Logged: your reflection for week ${week}. Thank you for writing it.` },
      };
    case 'empty':
      await event('empty', {});
      return { log: 'an empty reply' };
    case 'pause': {
      if (ended) return endedEffect(event, 'pause', sent);
      const resumeAt = pauseEndsAt(intent, sent.zone, now);
      const weeks = await pauseEnrolment(store.shifts(), sent.enrolmentId, {
        pausedAt: now,
        resumeAt,
      });
      const until = DateTime.fromJSDate(resumeAt, { zone: sent.zone }).toFormat('cccc d LLLL', {
        locale: 'en-GB',
      });
      await event('pause', { until: resumeAt.toISOString(), weeks });
      return {
        log: `paused until ${until} (${weeks} weeks)`,
        ack: {
          message: `Paused until ${until}.`,
          detail:
            'Your programme picks up where you left off, and your calendar invites have moved. Reply "resume" to come back sooner.',
        },
      };
    }
    case 'resume': {
      if (ended) return endedEffect(event, 'resume', sent);
      const weeks = await resumeEnrolment(store.shifts(), sent.enrolmentId, { resumedAt: now });
      await event('resume', { weeks });
      return {
        log: weeks === 0 ? 'resume (was not paused)' : `resumed (${-weeks} weeks earlier)`,
        ack: { message: 'Welcome back: your programme carries on from where you left off.' },
      };
    }
    case 'skip': {
      if (ended) return endedEffect(event, 'skip', sent);
      const skipped = await store.skipWeek(sent.enrolmentId, week, now);
      await event('skip', { skipped });
      return {
        log: `skipped the rest of week ${week} (${skipped} messages)`,
        ack: {
          message: `Skipped week ${week}.`,
          detail: 'The rest of this week is off your plan; next week arrives as usual.',
        },
      };
    }
    case 'stop':
      if (meansUnsubscribe(read.text)) {
        // "Unsubscribe", not "stop": no more mail from us at all, so no acknowledgement either.
        await event('stop', { unsubscribe: true });
        await store.unsubscribe(sent.learnerId, now, 'reply');
        return { log: 'unsubscribed: no more mail from Digital Gym' };
      }
      await event('stop', {});
      await store.stopEnrolment(sent.enrolmentId, 'the learner replied stop', now);
      return {
        log: 'stopped the programme',
        ack: {
          message: 'Stopped: you will get no more emails from this programme.',
          detail: 'Its practice slots have been removed from your calendar.',
        },
      };
  }
}

/** A pause, resume or skip for a programme that has ended is logged, and changes nothing. */
async function endedEffect(
  event: (kind: ProgressKind, data: Record<string, unknown>) => Promise<void>,
  kind: ProgressKind,
  sent: SentContext,
): Promise<Effect> {
  await event(kind, { ignored: `the enrolment is ${sent.enrolmentStatus}` });
  const over = sent.enrolmentStatus === 'completed' ? 'finished' : 'ended';
  return {
    log: `${kind} ignored: the enrolment is ${sent.enrolmentStatus}`,
    ack: { message: `Your programme has already ${over}, so there is nothing to ${kind}.` },
  };
}

async function acknowledge(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  sent: SentContext,
  ack: { message: string; detail?: string },
  now: Date,
): Promise<void> {
  const perDay = deps.acknowledgementsPerDay ?? 3;
  const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
  if ((await deps.store.acknowledgementsSince(sent.learnerId, since)) >= perDay) return;
  await deps.store.queueAcknowledgement(
    {
      enrolmentId: sent.enrolmentId,
      week: sent.week,
      inboundId,
      payload: {
        message: ack.message,
        detail: ack.detail,
        subject: read.subject,
        inReplyTo: read.messageId,
        // Oldest first, as References are written; the sender appends the learner's own id.
        references: [...read.threadIds].reverse(),
      },
    },
    now,
  );
}

/** "Talked to Sam", "Helped Sam get YouTube unblocked": a manager's engagement, about whom. */
export function managerAction(text: string): ManagerReplyAction {
  const words = text.slice(0, 500).toLowerCase();
  if (/\b(talked|talk|spoke|spoken|chatted|met|caught up|discussed)\b/.test(words)) return 'talked';
  if (/\b(helped|unblocked|sorted|booked|protected|arranged|made time|asked it)\b/.test(words))
    return 'helped';
  return 'note';
}

async function recordManagerReply(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  match: { managerId: number; digestId: number | undefined },
  now: Date,
): Promise<string> {
  const team = await deps.store.managerTeam(match.managerId);
  const words = read.text.toLowerCase();
  // The full name first ("Sam Jones"), then a first name alone, when only one person has it.
  const byFullName = team.find((m) => words.includes(`${m.firstName} ${m.lastName}`.toLowerCase()));
  const byFirstName = team.filter((m) =>
    // Not \b: it is ASCII-only, and "Siobhán" ends in a letter it does not know.
    new RegExp(`(?<!\\p{L})${escapeRegExp(m.firstName.toLowerCase())}(?!\\p{L})`, 'u').test(words),
  );
  const learner = byFullName ?? (byFirstName.length === 1 ? byFirstName[0] : undefined);
  const action = managerAction(read.text);
  await deps.store.addManagerReply({
    managerId: match.managerId,
    inboundId,
    digestId: match.digestId,
    learnerId: learner?.learnerId,
    action,
    text: read.text.slice(0, 2000),
    occurredAt: read.date ?? now,
  });
  return `manager ${action}${learner ? ` (${learner.firstName} ${learner.lastName})` : ''}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A delivery status notification. Anyone can send a DSN naming a learner's address, so a bounce
 * acts only when it proves itself: its returned headers quote a Message-ID we signed (see
 * `messageIdFor`) for a message we sent to the very address it says failed. Anything else is
 * parked for `gym inbox` and changes nothing. A verified hard bounce (5.x.x) suppresses the
 * address until `gym learner resubscribe`; a soft one (4.x.x) is counted and mail goes on.
 */
async function actOnBounce(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  raw: Buffer,
  now: Date,
): Promise<string> {
  const { store } = deps;
  const bounce = read.bounce;
  const ref =
    bounce?.originalMessageId === undefined
      ? undefined
      : deliveryFromMessageId(deps.secret, bounce.originalMessageId);
  const sent = ref === undefined ? undefined : await store.sentDelivery(ref.deliveryId);
  const named = bounce?.recipient === undefined ? undefined : normaliseAddress(bounce.recipient);
  const problem =
    bounce === undefined
      ? 'a bounce without a delivery report'
      : sent === undefined
        ? `an unverified bounce${named === undefined ? '' : ` naming ${named}`}: it quotes no Message-ID of a message we sent; nothing was changed`
        : named !== undefined && named !== normaliseAddress(sent.learnerEmail)
          ? `an unverified bounce: it names ${named}, but the message it quotes went to ${sent.learnerEmail}; nothing was changed`
          : undefined;
  if (problem !== undefined || bounce === undefined || sent === undefined) {
    const kept = strangerRaw(raw);
    const reason = `${problem ?? 'an unverified bounce'}; look at it with gym inbox${kept.note}`;
    await store.settleInbound(inboundId, { status: 'parked', reason, raw: kept.raw }, now);
    return 'parked';
  }
  const { learnerId, deliveryId } = sent;
  const words = `${bounce.status}${bounce.diagnostic ? ` ${bounce.diagnostic}` : ''}`.slice(0, 300);
  if (bounce.hard) await store.markBounced(learnerId, `hard bounce ${words}`, now);
  // A soft bounce (a full mailbox, a server down for the night) is counted, and mail goes on.
  const soft = bounce.hard ? 0 : (await store.softBouncesOf(learnerId)) + 1;
  await store.settleInbound(
    inboundId,
    {
      status: 'processed',
      learnerId,
      deliveryId,
      reason: bounce.hard
        ? `hard bounce ${words}`
        : `soft bounce ${words} (${soft} for this address; mail goes on)`,
    },
    now,
  );
  return bounce.hard ? 'address marked bounced' : 'soft bounce counted';
}

async function actOnRsvp(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  raw: Buffer,
  now: Date,
): Promise<string> {
  const { store } = deps;
  const rsvp = read.rsvp;
  const sent = rsvp === undefined ? undefined : await store.inviteByUid(rsvp.uid);
  if (sent === undefined || rsvp === undefined) {
    const kept = strangerRaw(raw);
    await store.settleInbound(
      inboundId,
      {
        status: 'parked',
        reason: `a calendar reply for an invite we did not send (${rsvp?.uid ?? 'no UID'})${kept.note}`,
        raw: kept.raw,
      },
      now,
    );
    return 'parked';
  }
  // Only the invited attendee answers for their slot: a UID alone proves nothing (the UIDs of
  // invites sent before they were signed can be guessed) (#16).
  if (read.from !== sent.learnerEmail) {
    const kept = strangerRaw(raw);
    await store.settleInbound(
      inboundId,
      {
        status: 'parked',
        reason:
          `a calendar reply for ${sent.learnerEmail}'s invite, sent from ${read.from ?? 'no sender address'}; ` +
          `only the invited attendee's own answer counts${kept.note}`,
        raw: kept.raw,
      },
      now,
    );
    return 'parked';
  }
  await store.addProgress({
    enrolmentId: sent.enrolmentId,
    deliveryId: sent.deliveryId,
    inboundId,
    kind: 'rsvp',
    data: {
      week: sent.week,
      partstat: rsvp.partstat,
      attendee: rsvp.attendee,
      sequence: rsvp.sequence,
    },
    occurredAt: read.date ?? now,
  });
  await store.settleInbound(
    inboundId,
    {
      status: 'processed',
      learnerId: sent.learnerId,
      deliveryId: sent.deliveryId,
      reason: `RSVP ${rsvp.partstat}`,
    },
    now,
  );
  return `RSVP ${rsvp.partstat}`;
}
