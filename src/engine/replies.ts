import { createHash } from 'node:crypto';
import type { InboundItem, InboundVerdict } from '../inbound/source.js';
import type { AcknowledgementPayload, ManagerReplyAction, ReadMessage } from '../replies/types.js';
import {
  deliveryFromMessageId,
  digestFromMessageId,
  introductionFromMessageId,
} from '../mail/headers.js';
import {
  signConfirmToken,
  taggedAddressFor,
  taggedTokenFromAddress,
  tokenFromAddress,
  unsubscribeTokenFromAddress,
  verifyConfirmToken,
  verifyDigestReplyToken,
  verifyManagerUnsubscribeToken,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../mail/tokens.js';
import { messageOf } from '../errors.js';
import { normaliseAddress } from '../consent/suppression.js';
import {
  decide,
  type Decision,
  type Match,
  type Proposal,
  type ProgressKind,
  type SentContext,
  type TeamMember,
} from '../replies/decide.js';
import { storableRead, type StorableRead } from '../replies/storable.js';
import { readIntakeAnswers, type IntakeAnswer } from '../replies/intake.js';
import type { LearnerProfile } from '../enrol/profile.js';
import { matchProgramme } from '../matcher/match.js';
import type { IntakeQuestion } from '../sequence/schema.js';
import type { ProgrammeVersion } from './enrol.js';
import { pauseEnrolment, resumeEnrolment, type ShiftStore } from './shift.js';

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

/** A manager we know, with the people they manage. */
interface ManagerFound {
  readonly managerId: number;
  readonly team: readonly TeamMember[];
}

/** A progress event as `applyDecision` writes it. */
export interface ProgressEvent {
  readonly enrolmentId: number;
  readonly deliveryId: number | undefined;
  readonly inboundId: number;
  readonly kind: ProgressKind;
  readonly data: Record<string, unknown>;
  readonly occurredAt: Date;
}

/** A threaded answer queued for the dispatcher. */
export interface QueuedAcknowledgement {
  readonly enrolmentId: number;
  readonly week: number;
  readonly inboundId: number;
  readonly payload: AcknowledgementPayload;
}

/**
 * What the replies of one batch read, fetched at once (`ReplyStore.prefetch`): the sent
 * deliveries asked for (those still `sent`), and for each one's enrolment and learner what
 * `progressOf`, `acknowledgementsSince` and `assignmentOf` (of the delivery's own week) say.
 */
export interface PrefetchedReads {
  readonly sent: ReadonlyMap<number, SentContext>;
  /** Weeks marked done, by enrolment. */
  readonly weeksDone: ReadonlyMap<number, ReadonlySet<string>>;
  /** Acknowledgements due since the batch's `since`, by learner. */
  readonly acknowledgements: ReadonlyMap<number, number>;
  /** The delivery a "done" marks, by `${enrolmentId}:${week}`. */
  readonly assignments: ReadonlyMap<string, number | undefined>;
}

/**
 * What the reply handler needs from storage; `src/db/reply-store.ts` implements it. Reads serve
 * matching and the decision's context; writes serve `applyDecision`, the one place that writes.
 */
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
  /**
   * A delivery we sent, found by its id, by the calendar UID of its invite, or (`email`) the
   * learner's open enrolment's latest sent delivery.
   */
  sent(
    by: { deliveryId: number } | { email: string } | { inviteUid: string },
  ): Promise<SentContext | undefined>;
  /** The delivery of the week's assignment, which a "done" marks (the week's first email otherwise). */
  assignmentOf(enrolmentId: number, week: number): Promise<number | undefined>;
  /** Weeks marked done so far, and whether `week` is one of them. */
  progressOf(
    enrolmentId: number,
    week: number,
  ): Promise<{ weeksDone: number; thisWeekDone: boolean }>;
  /** A message we asked about (its stored reading), and whether a button answered it already. */
  proposalOf(inboundId: number): Promise<(Proposal & { deliveryId: number }) | undefined>;
  addProgress(event: ProgressEvent): Promise<void>;
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
  /**
   * The manager a digest or an introduction we sent went to, or the manager at an address; with
   * their team.
   */
  manager(
    by: { digestId: number } | { introductionId: number } | { email: string },
  ): Promise<ManagerFound | undefined>;
  acknowledgementsSince(learnerId: number, since: Date): Promise<number>;
  queueAcknowledgement(ack: QueuedAcknowledgement, now: Date): Promise<void>;
  /**
   * The batch forms, for `handleInboundBatch`: each writes or reads what the methods above do for
   * one reply, for a whole batch in one statement. `recordInboundMany` gives each record's new
   * id, undefined for a Message-ID stored before.
   */
  recordInboundMany(records: readonly InboundRecord[]): Promise<(number | undefined)[]>;
  prefetch(request: { deliveryIds: readonly number[]; since: Date }): Promise<PrefetchedReads>;
  addProgressMany(events: readonly ProgressEvent[]): Promise<void>;
  settleProcessedMany(
    settled: readonly { id: number; reason: string; learnerId?: number; deliveryId?: number }[],
    now: Date,
  ): Promise<void>;
  queueAcknowledgementMany(acks: readonly QueuedAcknowledgement[], now: Date): Promise<void>;
  /** The change-of-plan store inside this transaction (pause, resume). */
  shifts(): ShiftStore;
  /**
   * The intake questions of the enrolment's programme (and the same in its other languages),
   * whether a programme step has been sent, and whether the enrolment is open; undefined when
   * the programme asks nothing.
   */
  intakeOf(enrolmentId: number): Promise<
    | {
        programmeId: string;
        questions: readonly IntakeQuestion[];
        translations: readonly (readonly IntakeQuestion[])[];
        started: boolean;
        open: boolean;
      }
    | undefined
  >;
  /** Writes intake answers into the learner's profile; returns the profile the matcher reads. */
  updateProfile(
    learnerId: number,
    answers: readonly IntakeAnswer[],
    now: Date,
  ): Promise<LearnerProfile>;
  /** The latest stored version of every programme: the matcher's choice when none are given. */
  latestProgrammes(): Promise<ProgrammeVersion[]>;
  /** Moves the learner's open enrolment to `target`, as `gym learner move` does. */
  moveForIntake(
    learnerEmail: string,
    target: ProgrammeVersion,
    reasons: { ended: string; matchReason: string },
    now: Date,
    secret: string,
  ): Promise<{ from: string; to: string; startsOn: string }>;
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
  /**
   * The programmes intake answers may move a learner to: the programme files in use. Without
   * it, the latest stored version of each programme enrolled so far.
   */
  readonly programmes?: () => Promise<readonly ProgrammeVersion[]>;
}

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
    const sent = await store.sent({ email: learnerEmail.toLowerCase() });
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

/** The row a message is recorded as (shared with the batch path, `replies-batch.ts`). */
export function recordOf(item: InboundItem, storable: StorableRead, now: Date): InboundRecord {
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
      confidence: read.confidence,
      language: read.language,
      bounce: read.bounce,
      rsvp: read.rsvp,
      // The Message-ID as written, when it is stored under a hash (#16).
      ...(key !== undefined && key !== writtenMessageId ? { messageId: writtenMessageId } : {}),
      ...(repairs.length > 0 ? { repairs } : {}),
    },
  };
}

/**
 * Matches the message, decides what it means (src/replies/decide.ts), and applies the decision.
 * `assigned`: a trainer said in `gym inbox` whose it is, having read it.
 */
export async function act(
  deps: ReplyDependencies,
  inboundId: number,
  read: ReadMessage,
  raw: Buffer,
  now: Date,
  assigned: SentContext | undefined,
): Promise<string> {
  const { store } = deps;
  const match: Match =
    read.kind === 'auto_reply'
      ? { by: 'none', why: read.evidence }
      : read.kind === 'bounce'
        ? await matchBounce(deps, read)
        : read.kind === 'rsvp'
          ? await matchRsvp(deps, read)
          : assigned !== undefined
            ? { by: 'token', sent: assigned }
            : await matchReply(deps, read);
  const sent = 'sent' in match ? match.sent : undefined;
  const context = {
    inboundId,
    match,
    now,
    vouched: assigned !== undefined,
    progress:
      sent === undefined || read.kind !== 'reply'
        ? undefined
        : await store.progressOf(sent.enrolmentId, sent.week),
    answersLeft: sent === undefined ? undefined : await answersLeft(deps, sent.learnerId, now),
    intake: await intakeAnswers(deps, read, match),
  };
  const decision = decide(read, context);
  return applyDecision(deps, { inboundId, decision, read, raw, match, now });
}

/**
 * The answers to the welcome's intake questions in a learner's reply to it: only a reply signed
 * with their token or in the welcome's thread from their address, to an open enrolment.
 */
async function intakeAnswers(
  deps: ReplyDependencies,
  read: ReadMessage,
  match: Match,
): Promise<{ answers: readonly IntakeAnswer[] } | undefined> {
  if (read.kind !== 'reply' || (match.by !== 'token' && match.by !== 'thread')) return undefined;
  if (match.sent.deliveryKind !== 'welcome') return undefined;
  const intake = await deps.store.intakeOf(match.sent.enrolmentId);
  if (intake === undefined || !intake.open) return undefined;
  const reading = readIntakeAnswers(read.text, intake.questions, intake.translations);
  return { answers: reading.answers };
}

async function answersLeft(deps: ReplyDependencies, learnerId: number, now: Date): Promise<number> {
  const perDay = deps.acknowledgementsPerDay ?? 3;
  const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
  return perDay - (await deps.store.acknowledgementsSince(learnerId, since));
}

/**
 * The one place a decision is written, inside the caller's transaction: the plan changes, then
 * the progress events (with what the changes did: weeks moved, messages skipped), a manager's
 * engagement, the inbound row's outcome, and the threaded answer.
 */
async function applyDecision(
  deps: ReplyDependencies,
  applied: {
    inboundId: number;
    decision: Decision;
    read: ReadMessage;
    raw: Buffer;
    match: Match;
    now: Date;
  },
): Promise<string> {
  const { store } = deps;
  const { inboundId, decision, read, raw, match, now } = applied;
  let outcome: Record<string, unknown> = {};
  let note = '';
  for (const change of decision.changes) {
    switch (change.type) {
      case 'pause': {
        const weeks = await pauseEnrolment(store.shifts(), change.enrolmentId, {
          pausedAt: now,
          resumeAt: change.resumeAt,
        });
        outcome = { weeks };
        note = ` (${weeks} weeks)`;
        break;
      }
      case 'resume': {
        const weeks = await resumeEnrolment(store.shifts(), change.enrolmentId, { resumedAt: now });
        outcome = { weeks };
        note = weeks === 0 ? ' (was not paused)' : ` (${-weeks} weeks earlier)`;
        break;
      }
      case 'skip': {
        const skipped = await store.skipWeek(change.enrolmentId, change.week, now);
        outcome = { skipped };
        note = ` (${skipped} messages)`;
        break;
      }
      case 'stop':
        await store.stopEnrolment(change.enrolmentId, change.reason, now);
        break;
      case 'unsubscribe':
        await store.unsubscribe(change.learnerId, now, change.how);
        break;
      case 'digest-opt-out':
        await store.unsubscribeManager(change.managerId, change.how, now);
        break;
      case 'bounced':
        await store.markBounced(change.learnerId, change.reason, now);
        break;
    }
  }
  const occurredAt = read.date ?? now;
  const intake =
    decision.intake === undefined
      ? undefined
      : await applyIntake(deps, decision.intake, { inboundId, occurredAt, now });
  for (const event of decision.events) {
    const assignment =
      event.assignmentWeek === undefined
        ? undefined
        : await store.assignmentOf(event.enrolmentId, event.assignmentWeek);
    await store.addProgress({
      enrolmentId: event.enrolmentId,
      deliveryId: assignment ?? event.deliveryId,
      inboundId: event.inboundId,
      kind: event.kind,
      data: { ...event.data, ...(event.withOutcome === true ? outcome : {}) },
      occurredAt,
    });
  }
  if (decision.managerReply !== undefined)
    await store.addManagerReply({ ...decision.managerReply, inboundId, occurredAt });

  const reason = `${decision.log}${note}${intake === undefined ? '' : `; ${intake.outcome}`}`;
  const filed = {
    ...(decision.learnerId === undefined ? {} : { learnerId: decision.learnerId }),
    ...(decision.deliveryId === undefined ? {} : { deliveryId: decision.deliveryId }),
  };
  if (decision.status === 'processed') {
    await store.settleInbound(inboundId, { status: 'processed', reason, ...filed }, now);
  } else {
    // Mail from nobody we know keeps at most `maxStrangerRawBytes`; a learner's is kept whole.
    const kept = match.by === 'none' ? strangerRaw(raw) : { raw, note: '' };
    await store.settleInbound(
      inboundId,
      { status: decision.status, reason: `${reason}${kept.note}`, raw: kept.raw, ...filed },
      now,
    );
    return decision.status;
  }

  const sent = 'sent' in match ? match.sent : undefined;
  const answer =
    decision.answer === undefined || intake?.told === undefined
      ? decision.answer
      : { ...decision.answer, detail: `${decision.answer.detail ?? ''} ${intake.told}`.trim() };
  if (answer !== undefined && sent !== undefined) {
    const question = answer.question;
    const signed = (answer: 'yes' | 'no') =>
      taggedAddressFor(
        deps.replyAddress,
        answer === 'yes' ? 'y' : 'n',
        signConfirmToken(deps.secret, { inboundId: question!.about, answer }),
      );
    await store.queueAcknowledgement(
      {
        enrolmentId: sent.enrolmentId,
        week: sent.week,
        inboundId,
        payload: {
          kind: answer.kind,
          message: answer.message,
          detail: answer.detail,
          facts: answer.facts,
          language: read.language,
          subject: read.subject,
          inReplyTo: read.messageId,
          // Oldest first, as References are written; the sender appends the learner's own id.
          references: [...read.threadIds].reverse(),
          question:
            question === undefined
              ? undefined
              : {
                  proposal: question.proposal,
                  yes: { label: question.yesLabel, address: signed('yes') },
                  no: { label: question.noLabel, address: signed('no') },
                },
        },
      },
      now,
    );
  }
  return reason;
}

async function matchReply(deps: ReplyDependencies, read: ReadMessage): Promise<Match> {
  const { store } = deps;
  /** A learner's signed address proves nothing when the mail came from someone else. */
  const fromThem = (sent: SentContext): Match | undefined =>
    read.from === sent.learnerEmail
      ? undefined
      : {
          by: 'mismatch',
          sent,
          why:
            `the reply address belongs to ${sent.learnerEmail} but the mail came from ${read.from ?? 'no sender address'}; ` +
            `held so that nobody changes another learner's programme. If it is theirs, run ` +
            `gym inbox assign <id> ${sent.learnerEmail}`,
        };
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
      const manager = await store.manager({ digestId });
      if (manager !== undefined) return { by: 'manager', ...manager, digestId };
    }
    const unsubscribe = unsubscribeTokenFromAddress(address, deps.replyAddress);
    if (unsubscribe !== undefined) {
      const verified = verifyUnsubscribeToken(deps.secret, unsubscribe);
      if (verified.ok) return { by: 'unsubscribe', learnerId: verified.learnerId };
    }
    for (const answer of ['yes', 'no'] as const) {
      const token = taggedTokenFromAddress(
        address,
        deps.replyAddress,
        answer === 'yes' ? 'y' : 'n',
      );
      const about =
        token === undefined ? undefined : verifyConfirmToken(deps.secret, token, answer);
      const proposal = about === undefined ? undefined : await store.proposalOf(about);
      const sent =
        proposal === undefined ? undefined : await store.sent({ deliveryId: proposal.deliveryId });
      if (proposal === undefined || sent === undefined) continue;
      return fromThem(sent) ?? { by: 'confirm', answer, sent, proposal };
    }
    const token = tokenFromAddress(address, deps.replyAddress);
    if (token === undefined) continue;
    const verified = verifyReplyToken(deps.secret, token);
    if (!verified.ok) continue; // a forged or mangled token proves nothing; try the thread
    const sent = await store.sent({ deliveryId: verified.deliveryId });
    if (sent === undefined) continue;
    // No sender at all is no proof either: anyone who saw the Reply-To could leave From out.
    return fromThem(sent) ?? { by: 'token', sent };
  }
  for (const id of read.threadIds) {
    const ref = deliveryFromMessageId(deps.secret, id);
    if (ref === undefined) continue;
    const sent = await store.sent({ deliveryId: ref.deliveryId });
    if (sent !== undefined && read.from === sent.learnerEmail) return { by: 'thread', sent };
  }
  // A manager answering their digest or their introduction ("Talked to Sam", "remove me"): by
  // the thread of one we sent to them, or only their address. A thread proves who it is only
  // when the digest or introduction it names went to the manager at From.
  const manager = read.from === undefined ? undefined : await store.manager({ email: read.from });
  if (manager !== undefined) {
    let digestId: number | undefined;
    let introductionId: number | undefined;
    for (const id of read.threadIds) {
      const digest = digestFromMessageId(deps.secret, id);
      if (digest !== undefined && digestId === undefined) {
        const to = await store.manager({ digestId: digest });
        if (to?.managerId === manager.managerId) digestId = digest;
      }
      const introduction = introductionFromMessageId(deps.secret, id);
      if (introduction !== undefined && introductionId === undefined) {
        const to = await store.manager({ introductionId: introduction });
        if (to?.managerId === manager.managerId) introductionId = introduction;
      }
    }
    const learner = await store.sent({ email: read.from! });
    if (digestId !== undefined || introductionId !== undefined || learner === undefined)
      return {
        by: 'manager',
        ...manager,
        digestId,
        ...(introductionId === undefined ? {} : { introductionId }),
      };
  }
  if (read.from !== undefined) {
    const sent = await store.sent({ email: read.from });
    if (sent !== undefined) return { by: 'from', sent };
  }
  return {
    by: 'none',
    why: `no signed reply address, no thread of ours and no learner at ${read.from ?? 'an unknown sender'}`,
  };
}

/**
 * A delivery status notification. Anyone can send a DSN naming a learner's address, so a bounce
 * acts only when it proves itself: its returned headers quote a Message-ID we signed (see
 * `messageIdFor`) for a message we sent to the very address it says failed. Anything else is
 * parked for `gym inbox` and changes nothing.
 */
async function matchBounce(deps: ReplyDependencies, read: ReadMessage): Promise<Match> {
  const { store } = deps;
  const bounce = read.bounce;
  const ref =
    bounce?.originalMessageId === undefined
      ? undefined
      : deliveryFromMessageId(deps.secret, bounce.originalMessageId);
  const sent = ref === undefined ? undefined : await store.sent({ deliveryId: ref.deliveryId });
  const named = bounce?.recipient === undefined ? undefined : normaliseAddress(bounce.recipient);
  const problem =
    bounce === undefined
      ? 'a bounce without a delivery report'
      : sent === undefined
        ? `an unverified bounce${named === undefined ? '' : ` naming ${named}`}: it quotes no Message-ID of a message we sent; nothing was changed`
        : named !== undefined && named !== normaliseAddress(sent.learnerEmail)
          ? `an unverified bounce: it names ${named}, but the message it quotes went to ${sent.learnerEmail}; nothing was changed`
          : undefined;
  if (problem !== undefined || bounce === undefined || sent === undefined)
    return { by: 'none', why: `${problem ?? 'an unverified bounce'}; look at it with gym inbox` };
  const softBefore = bounce.hard ? 0 : await store.softBouncesOf(sent.learnerId);
  return { by: 'bounce', sent, bounce, softBefore };
}

/**
 * A calendar reply: only the invited attendee answers for their slot. A UID alone proves nothing
 * (the UIDs of invites sent before they were signed can be guessed) (#16).
 */
async function matchRsvp(deps: ReplyDependencies, read: ReadMessage): Promise<Match> {
  const rsvp = read.rsvp;
  const sent = rsvp === undefined ? undefined : await deps.store.sent({ inviteUid: rsvp.uid });
  if (sent === undefined || rsvp === undefined)
    return {
      by: 'none',
      why: `a calendar reply for an invite we did not send (${rsvp?.uid ?? 'no UID'})`,
    };
  if (read.from !== sent.learnerEmail)
    return {
      by: 'none',
      why:
        `a calendar reply for ${sent.learnerEmail}'s invite, sent from ${read.from ?? 'no sender address'}; ` +
        `only the invited attendee's own answer counts`,
    };
  return { by: 'rsvp', sent, rsvp };
}

/**
 * Intake answers (#14 §2): they update the profile; then, while no programme step has been sent
 * and the reply changed nothing else, the matcher chooses again from the learner's new profile,
 * and a different choice moves them there as `gym learner move` does (from week 1, on the same
 * start date). The progress event `intake` records the answers, the old and new programme and
 * why, for `gym learner show`.
 */
async function applyIntake(
  deps: ReplyDependencies,
  intake: NonNullable<Decision['intake']>,
  at: { inboundId: number; occurredAt: Date; now: Date },
): Promise<{ outcome: string; told: string | undefined }> {
  const { store } = deps;
  const profile = await store.updateProfile(intake.learnerId, intake.answers, at.now);
  const current = await store.intakeOf(intake.enrolmentId);
  const from = current?.programmeId;
  const answers = intake.answers.map((a) => `${a.field} ${[a.value].flat().join(', ')}`).join('; ');
  let moved: { from: string; to: string; startsOn: string } | undefined;
  let movedTitle = '';
  let why: string;
  if (!intake.mayMove) why = 'the same reply changed the plan, so the programme was kept';
  else if (current === undefined || current.started)
    why = 'week 1 had already been sent, so the programme was kept';
  else {
    const programmes = (await deps.programmes?.()) ?? (await store.latestProgrammes());
    const match = matchProgramme(
      profile,
      programmes.map((p) => p.sequence),
    );
    const target = programmes.find((p) => p.sequence.id === match.programmeId);
    if (target === undefined || match.programmeId === from)
      why = `the matcher chose ${from ?? 'the same programme'} again: ${match.reason}`;
    else {
      why = `the matcher chose ${target.sequence.id}: ${match.reason}`;
      movedTitle = target.sequence.title;
      moved = await store.moveForIntake(
        profile.email,
        target,
        {
          ended: `moved to ${target.sequence.id} by the learner's intake answers (${answers})`,
          matchReason: `intake answers (${answers}) before week 1, moved from ${from}: ${match.reason}`,
        },
        at.now,
        deps.secret,
      );
    }
  }
  await store.addProgress({
    enrolmentId: intake.enrolmentId,
    deliveryId: intake.deliveryId,
    inboundId: at.inboundId,
    kind: 'intake',
    data: {
      week: 1,
      answers: intake.answers.map((a) => ({ field: a.field, value: a.value, said: a.said })),
      from,
      to: moved?.to ?? from,
      moved: moved !== undefined,
      reason: why,
    },
    occurredAt: at.occurredAt,
  });
  return {
    outcome:
      moved === undefined
        ? `kept ${from ?? 'the programme'} (${why})`
        : `moved from ${moved.from} to ${moved.to}`,
    told:
      moved === undefined
        ? undefined
        : `With these answers, "${movedTitle}" suits you better: your weekly emails now come from it, from the week of ${moved.startsOn}.`,
  };
}
