import { buildInvite, inviteBodies, whenLabel } from '../calendar/invite.js';
import { composeMessage, type OutgoingMessage } from '../mail/compose.js';
import { domainOf, learnerEmailHeaders } from '../mail/headers.js';
import { macOf } from '../mail/tokens.js';
import type { MailTransport, SendOutcome } from '../mail/transport.js';
import { dueDecision, durationMinutes, evaluateCondition } from '../planner/index.js';
import { templateContext } from '../render/context.js';
import type { AcknowledgementPayload } from '../db/schema.js';
import {
  describeSuppression,
  normaliseAddress,
  suppressionFor,
  type ConsentReader,
  type Suppression,
} from '../consent/suppression.js';
import type { DigestStore } from './digests.js';
import { isJourneyMail, journeyMessage } from './journey-mail.js';
import {
  compileLayouts,
  renderAcknowledgement,
  renderInvite,
  renderStep,
  type CompiledLayouts,
  type CompiledProgramme,
} from '../render/index.js';
import type { Sequence } from '../sequence/schema.js';

/** What a lease holder proves its claim with: the row and the fencing token it claimed it with. */
export interface HeldLease {
  readonly id: number;
  /** Bumped by every claim of the row: a holder with an older one has lost the row. */
  readonly leaseToken: number;
}

/** A claimed delivery with what it takes to send it. */
export interface DueDelivery extends HeldLease {
  readonly enrolmentId: number;
  readonly versionId: number;
  readonly stepKey: string;
  readonly week: number;
  readonly kind: 'email' | 'invite' | 'acknowledgement' | 'welcome' | 'programme_end';
  /** What an acknowledgement says; null for the plan's rows. */
  readonly payload: AcknowledgementPayload | null;
  readonly dueAt: Date;
  /** When the relay's quota last carried this row to later: lateness counts from then. */
  readonly quotaDeferredUntil?: Date | undefined;
  /** For an invite, the start of the slot it blocks. */
  readonly startsAt: Date | null;
  /** CANCEL withdraws the invite of the step its key names (`w03-practice.cancel`). */
  readonly method: 'REQUEST' | 'CANCEL';
  /** This claim included. */
  readonly attempts: number;
  readonly inviteSequence: number;
  readonly enrolmentStatus: string;
  readonly learner: {
    readonly id: number;
    readonly email: string;
    readonly first_name: string;
    readonly last_name: string;
    readonly time_zone: string;
    readonly role: string | null;
    readonly organisation: string | null;
    readonly status: string;
  };
  readonly manager: { readonly name: string; readonly email: string } | undefined;
}

/** How a claimed delivery ends this attempt; written only while this worker still holds it. */
export type Settlement =
  | {
      readonly status: 'sent';
      readonly messageId: string;
      readonly inviteUid: string | undefined;
    }
  | {
      readonly status: 'pending';
      readonly retryAt: Date;
      readonly reason: string;
      /** False when the row only waits for its sending window: no attempt was spent. */
      readonly failedAttempt: boolean;
      /**
       * Set when the relay's quota carried the row to `retryAt`: its lateness counts from then,
       * so a wave bigger than a day's quota goes out the next day instead of being missed.
       */
      readonly quotaDeferred?: boolean;
    }
  | { readonly status: 'failed' | 'skipped' | 'missed' | 'cancelled'; readonly reason: string };

/**
 * What the dispatcher needs from storage; `src/db/dispatch-store.ts` implements it. Leases are
 * on the database's clock (see `src/db/deliveries.ts`); `now` decides only what is due. It reads
 * suppressions too, at send time: a row queued before a person said no is never sent.
 */
export interface DispatchStore extends ConsentReader {
  claim(options: {
    workerId: string;
    limit: number;
    leaseSeconds: number;
    now: Date;
  }): Promise<DueDelivery[]>;
  /** The heartbeat: extends the leases still held; answers the ids it renewed. */
  renew(held: readonly HeldLease[], leaseSeconds: number): Promise<ReadonlySet<number>>;
  /**
   * Checked before each message: false when another worker has taken the row (nothing may be
   * sent); true, with the lease extended to `sendLeaseSeconds`, while this holder has it.
   */
  fence(held: HeldLease, sendLeaseSeconds: number): Promise<boolean>;
  /** The programme version an enrolment follows. */
  programme(versionId: number): Promise<Sequence>;
  /** Step keys (`w01-kickoff`) the learner has said are done. */
  doneSteps(enrolmentId: number): Promise<ReadonlySet<string>>;
  /** The learner's reflections on this enrolment, oldest first, for the programme-end email. */
  reflectionsOf?(enrolmentId: number): Promise<readonly { week: number; text: string }[]>;
  /** False when the lease was lost (another worker reclaimed the row): nothing is written. */
  settle(held: HeldLease, settlement: Settlement, now: Date): Promise<boolean>;
  /** Records that `workerId` ticked (database clock): what it sent, or why the tick failed. */
  recordTick?(
    workerId: string,
    outcome: { sent: number; error?: string | undefined },
  ): Promise<void>;
  /** The calendar UID an invite of this plan row (`w01-practice`) was first sent with, if any. */
  sentInviteUid?(enrolmentId: number, stepKey: string): Promise<string | undefined>;
}

/**
 * The relay's quota shared by every worker (SMTP_MAX_PER_SECOND, _PER_MINUTE, _PER_DAY, and a
 * pause when the relay says "too many").
 */
export interface SendBudget {
  /** Takes one place at `now`, or says when one may free up and which limit is full. */
  take(
    now: Date,
  ): Promise<{ granted: true } | { granted: false; retryAt: Date; reason?: string | undefined }>;
  /** Holds every worker back until `until`: the relay answered that we send too fast. */
  pauseRelay?(until: Date): Promise<void>;
}

/** A wait for the quota longer than this carries the row to later instead of holding it. */
const longestQuotaWaitMs = 5_000;

export interface DispatchDependencies {
  readonly store: DispatchStore;
  readonly transport: MailTransport;
  readonly mail: {
    readonly secret: string;
    readonly from: string;
    readonly replyAddress: string;
    readonly publicUrl: string | undefined;
  };
  readonly workerId: string;
  readonly batchSize?: number;
  /** Messages of a batch in flight at once (the SMTP pool has 5 connections). */
  readonly concurrency?: number;
  /** How long a claim holds without renewal (database clock); renewed every third of it. */
  readonly leaseSeconds?: number;
  /**
   * How long the row of a message being handed to the relay holds if its holder stops renewing
   * (a paused VM, a process stopped or killed). Longer than the batch lease: a row not yet
   * started can move to another worker at no cost, while one in the relay's hands may have gone
   * already, and taking it from a holder that is only slow would send it twice. Three leases
   * when absent.
   */
  readonly sendLeaseSeconds?: number;
  /** Temporary failures allowed before a row fails for good. */
  readonly maxAttempts?: number;
  /** Milliseconds to wait after the n-th temporary failure (see `backoff`). */
  readonly retryDelay: (attempt: number) => number;
  /** The relay's quota, across workers; none when undefined. */
  readonly budget?: SendBudget;
  /** Waits until an instant of the clock `now` runs on (the budget's next second). */
  readonly waitUntil?: (instant: Date) => Promise<void>;
  /** Compiles a programme version once per process. */
  readonly compiled: (versionId: number, sequence: Sequence) => Promise<CompiledProgramme>;
  /** The layouts acknowledgements and digests are filled from; the shipped ones when absent. */
  readonly layouts?: () => Promise<CompiledLayouts>;
  /** Where manager digests are claimed; no digests are sent when absent. */
  readonly digests?: DigestStore;
}

// The shipped layouts, compiled once per process the first time an acknowledgement or a digest
// goes out. Soft, like the programmes in `gym run`: the tests validate the layouts strictly.
let shippedLayouts: Promise<CompiledLayouts> | undefined;
export function layoutsOf(deps: DispatchDependencies): Promise<CompiledLayouts> {
  if (deps.layouts !== undefined) return deps.layouts();
  shippedLayouts ??= compileLayouts({ validation: 'soft' });
  return shippedLayouts;
}

/** An acknowledgement more than this late would answer a reply the learner has forgotten. */
const acknowledgementGraceMs = 24 * 60 * 60 * 1000;

/** How the claimed rows ended; `lost`: another worker had reclaimed the row (its lease ran out). */
export type TickCounts = Record<Settlement['status'] | 'lost', number>;

export function noCounts(): TickCounts {
  return { sent: 0, pending: 0, failed: 0, skipped: 0, missed: 0, cancelled: 0, lost: 0 };
}

/** The plan's own key of a delivery: `w03-practice` for its update `.r2` and its `.cancel`. */
const baseKeyOf = (stepKey: string) => stepKey.replace(/\.(cancel|r\d+)$/, '');
const stepIdOf = (stepKey: string) => baseKeyOf(stepKey).replace(/^w\d+-/, '');
const weekKey = (week: number) => `w${String(week).padStart(2, '0')}-`;

/**
 * One tick of the dispatcher: claim a batch of due deliveries, decide for each (missed after
 * downtime, outside the window, a `when` that no longer holds, a learner who stopped), render
 * it from the precompiled programme, compose it, send it, and record the outcome. Outcomes are
 * data; a bad row is settled with its reason and the batch goes on.
 */
export async function dispatchTick(deps: DispatchDependencies, now: Date): Promise<TickCounts> {
  const counts = noCounts();
  const leaseSeconds = deps.leaseSeconds ?? 300;
  const batch = await deps.store.claim({
    workerId: deps.workerId,
    limit: deps.batchSize ?? 100,
    leaseSeconds,
    now,
  });
  // Consent is read once per batch, after the claim and before anything is sent.
  const suppressions =
    batch.length === 0 ? [] : await deps.store.suppressionsOf(batch.map((d) => d.learner.email));
  const heartbeat = startHeartbeat(deps.store, batch, leaseSeconds);
  try {
    // A few messages at a time: SMTP round trips overlap on the transport's pooled connections.
    let next = 0;
    const lane = async () => {
      while (next < batch.length) {
        const delivery = batch[next++]!;
        const attempt =
          (await refused(deps, delivery, suppressions)) ?? (await settleOne(deps, delivery, now));
        const kept = attempt.status !== 'lost' && (await deps.store.settle(delivery, attempt, now));
        heartbeat.release(delivery.id);
        counts[kept ? attempt.status : 'lost'] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 5, batch.length) }, lane));
  } finally {
    await heartbeat.stop();
  }
  return counts;
}

/**
 * Renews the batch's leases every third of a lease while the batch is being sent, so that a
 * live holder keeps its rows however slow the relay or the machine. It runs on real time, as
 * leases do, whatever clock decides what is due. A failed renewal is only retried at the next
 * beat: should the lease run out meanwhile, the check before each message stops its holder
 * from sending a row another worker took.
 */
function startHeartbeat(
  store: DispatchStore,
  batch: readonly HeldLease[],
  leaseSeconds: number,
): { release(id: number): void; stop(): Promise<void> } {
  const held = new Map(batch.map((d) => [d.id, { id: d.id, leaseToken: d.leaseToken }]));
  let beating: Promise<void> | undefined;
  const beat = () => {
    if (beating !== undefined || held.size === 0) return;
    beating = store
      .renew([...held.values()], leaseSeconds)
      .then((renewed) => {
        for (const id of held.keys()) if (!renewed.has(id)) held.delete(id);
      })
      .catch(() => undefined)
      .finally(() => {
        beating = undefined;
      });
  };
  const timer = batch.length === 0 ? undefined : setInterval(beat, (leaseSeconds * 1000) / 3);
  return {
    release: (id) => held.delete(id),
    async stop() {
      clearInterval(timer);
      held.clear();
      await beating;
    },
  };
}

/** A row another worker took while this one held it: it is neither sent nor settled here. */
type Lost = { readonly status: 'lost' };
const lost: Lost = { status: 'lost' };

/** The settlement of a row the person has said no to (see `suppressionFor`), if they have. */
async function refused(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  suppressions: readonly Suppression[],
): Promise<Settlement | undefined> {
  const address = normaliseAddress(delivery.learner.email);
  const theirs = suppressions.filter((s) => s.address === address);
  if (theirs.length === 0) return undefined;
  const no = suppressionFor(
    theirs,
    delivery.method === 'CANCEL'
      ? { kind: 'withdrawal' }
      : delivery.kind === 'acknowledgement'
        ? { kind: 'acknowledgement' }
        : { kind: 'programme', programmeId: (await deps.store.programme(delivery.versionId)).id },
  );
  return no === undefined
    ? undefined
    : { status: 'cancelled', reason: `${delivery.learner.email} ${describeSuppression(no)}` };
}

async function settleOne(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  now: Date,
): Promise<Settlement | Lost> {
  if (delivery.method === 'CANCEL') return cancelInvite(deps, delivery, now);
  if (delivery.kind === 'acknowledgement') return acknowledge(deps, delivery, now);
  if (delivery.learner.status !== 'active') {
    return { status: 'cancelled', reason: `the learner's address is ${delivery.learner.status}` };
  }
  if (delivery.enrolmentStatus !== 'active') {
    return { status: 'cancelled', reason: `the enrolment is ${delivery.enrolmentStatus}` };
  }
  const sequence = await deps.store.programme(delivery.versionId);
  const zone = delivery.learner.time_zone;
  const decision = dueDecision({
    dueAt: delivery.dueAt,
    lateSince: delivery.quotaDeferredUntil,
    now,
    lateGrace: sequence.schedule.late_grace,
    zone,
    window: sequence.schedule.window,
    workingDays: sequence.schedule.working_days,
  });
  if (decision.action === 'missed') return { status: 'missed', reason: decision.reason };
  if (decision.action === 'wait') {
    return {
      status: 'pending',
      retryAt: decision.until,
      reason: decision.reason,
      failedAttempt: false,
    };
  }

  if (isJourneyMail(delivery.kind)) {
    // The welcome and the programme end: rendered elsewhere, sent and settled as any step.
    const envelope = envelopeFor(deps, delivery);
    const kind = delivery.kind;
    const message = await journeyMessage(deps, { ...delivery, kind }, sequence, envelope, now);
    if ('status' in message) return message;
    const outcome = await sendMessage(deps, delivery, message);
    return settlementOf(outcome, delivery, deps, now, envelope.messageId, undefined);
  }

  const week = sequence.weeks.find((w) => w.week === delivery.week);
  const step = week?.steps.find((s) => s.id === stepIdOf(delivery.stepKey));
  if (week === undefined || step === undefined) {
    return {
      status: 'failed',
      reason: `step ${delivery.stepKey} is not in the programme version this enrolment follows`,
    };
  }
  const done = await deps.store.doneSteps(delivery.enrolmentId);
  if (step.when !== undefined) {
    const prefix = weekKey(week.week);
    const doneThisWeek = new Set([...done].filter((k) => k.startsWith(prefix)).map(stepIdOf));
    const condition = evaluateCondition(step.when, doneThisWeek);
    if (!condition.send) return { status: 'skipped', reason: condition.reason };
  }

  const compiled = await deps.compiled(delivery.versionId, sequence);
  const context = templateContext(sequence, week.week, delivery.learner, delivery.manager);
  const envelope = envelopeFor(deps, delivery);
  const { messageId, replyTo, headers } = envelope;
  let message: OutgoingMessage;
  let inviteUid: string | undefined;
  if (step.email) {
    const email = renderStep(compiled, week.week, step.id, context, {
      replyAddress: replyTo,
      unsubscribeUrl: headers['List-Unsubscribe']?.match(/<(https:[^>]+)>/)?.[1],
      assignmentsDone: new Set([...done].map((k) => k.slice(0, 3))).size,
    });
    message = {
      from: deps.mail.from,
      to: envelope.to,
      replyTo,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId,
      date: now,
      headers,
    };
  } else {
    const start = delivery.startsAt ?? delivery.dueAt;
    // An invite for a slot that has begun blocks nothing: after an outage it is not sent late.
    if (start <= now)
      return { status: 'missed', reason: `the practice slot began at ${whenLabel(start, zone)}` };
    const invite = renderInvite(compiled, week.week, step.id, context);
    const uid = await inviteUidOf(deps, delivery);
    // The UID is stored with the plan's own row; an update (`.r2`) reuses it.
    const isUpdate = delivery.stepKey !== baseKeyOf(delivery.stepKey);
    inviteUid = isUpdate ? undefined : uid;
    message = inviteMessage(deps, delivery, envelope, now, {
      uid,
      start,
      invite,
      minutes: durationMinutes(step.invite!.duration),
      method: 'REQUEST',
      subject: `${isUpdate ? 'Updated invitation' : 'Invitation'}: ${invite.title}`,
      description: invite.description,
    });
  }
  const outcome = await sendMessage(deps, delivery, message);
  return settlementOf(outcome, delivery, deps, now, messageId, inviteUid);
}

function settlementOf(
  outcome: SendOutcome | Lost | Deferred,
  delivery: DueDelivery,
  deps: DispatchDependencies,
  now: Date,
  messageId: string,
  inviteUid: string | undefined,
): Settlement | Lost {
  if (outcome.status === 'lost') return lost;
  if (outcome.status === 'deferred') {
    return {
      status: 'pending',
      retryAt: outcome.until,
      reason: outcome.reason,
      failedAttempt: false,
      quotaDeferred: true,
    };
  }
  if (outcome.status === 'sent') return { status: 'sent', messageId, inviteUid };
  if (outcome.status === 'failed') return { status: 'failed', reason: outcome.reason };
  if (outcome.throttled === true) {
    // The relay is overloaded, not the message at fault: no attempt spent, everyone slows down.
    const until = new Date(now.getTime() + relayPauseMs);
    return {
      status: 'pending',
      retryAt: until,
      reason: `the relay asked us to slow down (${outcome.reason}); trying again ${until.toISOString()}`,
      failedAttempt: false,
    };
  }
  const maxAttempts = deps.maxAttempts ?? 8;
  if (delivery.attempts >= maxAttempts) {
    return {
      status: 'failed',
      reason: `gave up after ${delivery.attempts} attempts: ${outcome.reason}`,
    };
  }
  return {
    status: 'pending',
    retryAt: new Date(now.getTime() + deps.retryDelay(delivery.attempts)),
    reason: outcome.reason,
    failedAttempt: true,
  };
}

/**
 * Withdraws an invite already sent, for a programme that ended early (the learner stopped or
 * unsubscribed): METHOD:CANCEL with the same UID and the next SEQUENCE, so calendars free the
 * slot. Sent whatever the learner's status, which is why it ended; pointless once the slot began.
 */
async function cancelInvite(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  now: Date,
): Promise<Settlement | Lost> {
  const start = delivery.startsAt ?? delivery.dueAt;
  if (start <= now)
    return { status: 'skipped', reason: 'the practice slot has begun; nothing to withdraw' };
  const sequence = await deps.store.programme(delivery.versionId);
  const week = sequence.weeks.find((w) => w.week === delivery.week);
  const step = week?.steps.find((s) => s.id === stepIdOf(delivery.stepKey));
  if (week === undefined || step?.invite === undefined) {
    return {
      status: 'failed',
      reason: `step ${delivery.stepKey} is not an invite of this programme version`,
    };
  }
  const compiled = await deps.compiled(delivery.versionId, sequence);
  const context = templateContext(sequence, week.week, delivery.learner, delivery.manager);
  const invite = renderInvite(compiled, week.week, step.id, context);
  const envelope = envelopeFor(deps, delivery);
  const message = inviteMessage(deps, delivery, envelope, now, {
    uid: await inviteUidOf(deps, delivery),
    start,
    invite,
    minutes: durationMinutes(step.invite.duration),
    method: 'CANCEL',
    subject: `Cancelled: ${invite.title}`,
    description:
      'Your Digital Gym programme has ended, so this practice slot is freed in your calendar.',
  });
  const outcome = await sendMessage(deps, delivery, message);
  return settlementOf(outcome, delivery, deps, now, envelope.messageId, undefined);
}

/**
 * The short answer to a learner's reply, in the same thread ("Logged: week 3 done: 4 of 12").
 * Sent even when the reply stopped the programme (it confirms the stop), never to an address
 * that bounces, and not a day late: by then it answers nothing.
 */
async function acknowledge(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  now: Date,
): Promise<Settlement | Lost> {
  const ack = delivery.payload;
  if (ack === null) return { status: 'failed', reason: 'an acknowledgement without its payload' };
  if (delivery.learner.status === 'bounced')
    return { status: 'cancelled', reason: "the learner's address bounces" };
  if (now.getTime() - delivery.dueAt.getTime() > acknowledgementGraceMs)
    return { status: 'missed', reason: 'more than a day late: the reply it answers is old news' };
  const envelope = envelopeFor(deps, delivery);
  const email = renderAcknowledgement(
    await layoutsOf(deps),
    {
      replyToSubject: ack.subject,
      firstName: delivery.learner.first_name,
      message: ack.message,
      detail: ack.detail,
    },
    {
      replyAddress: envelope.replyTo,
      unsubscribeUrl: envelope.headers['List-Unsubscribe']?.match(/<(https:[^>]+)>/)?.[1],
    },
  );
  const message: OutgoingMessage = {
    from: deps.mail.from,
    to: envelope.to,
    replyTo: envelope.replyTo,
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId: envelope.messageId,
    date: now,
    headers: { ...envelope.headers, 'Auto-Submitted': 'auto-replied' },
    inReplyTo: ack.inReplyTo,
    references: ack.inReplyTo === undefined ? ack.references : [...ack.references, ack.inReplyTo],
  };
  const outcome = await sendMessage(deps, delivery, message);
  return settlementOf(outcome, delivery, deps, now, envelope.messageId, undefined);
}

/**
 * Stable per (enrolment, step): every update and the cancellation of an invite reuse it. An
 * invite already sent keeps the UID it went with (those sent before UIDs were signed included);
 * a new one carries a MAC, so nobody can guess the UID of someone else's practice slot and
 * answer it for them (#16).
 */
async function inviteUidOf(deps: DispatchDependencies, delivery: DueDelivery): Promise<string> {
  const base = baseKeyOf(delivery.stepKey);
  const sent = await deps.store.sentInviteUid?.(delivery.enrolmentId, base);
  if (sent !== undefined) return sent;
  const mac = macOf(deps.mail.secret, `digital-gym:invite:v1:${delivery.enrolmentId}:${base}`);
  return `gym-${delivery.enrolmentId}-${base}-${mac}@${domainOf(deps.mail.replyAddress)}`;
}

export interface Envelope {
  readonly to: { readonly name: string; readonly email: string };
  readonly messageId: string;
  readonly replyTo: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Who a delivery goes to, and the headers that tie the learner's reply back to it. */
function envelopeFor(deps: DispatchDependencies, delivery: DueDelivery): Envelope {
  return {
    to: {
      name: `${delivery.learner.first_name} ${delivery.learner.last_name}`,
      email: delivery.learner.email,
    },
    ...learnerEmailHeaders({
      ...deps.mail,
      deliveryId: delivery.id,
      learnerId: delivery.learner.id,
    }),
  };
}

/** An invite (REQUEST or CANCEL) with its text and HTML bodies beside the calendar part. */
function inviteMessage(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  envelope: Envelope,
  now: Date,
  what: {
    uid: string;
    start: Date;
    invite: { title: string; description: string; location?: string | undefined };
    minutes: number;
    method: 'REQUEST' | 'CANCEL';
    subject: string;
    description: string;
  },
): OutgoingMessage {
  const ics = buildInvite({
    uid: what.uid,
    sequence: delivery.inviteSequence,
    start: what.start,
    durationMinutes: what.minutes,
    title: what.invite.title,
    description: what.invite.description,
    location: what.invite.location,
    organizer: { name: 'Digital Gym', email: deps.mail.replyAddress },
    attendee: envelope.to,
    stamp: now,
    method: what.method,
  });
  return {
    from: deps.mail.from,
    to: envelope.to,
    replyTo: envelope.replyTo,
    subject: what.subject,
    ...inviteBodies({
      title: what.subject,
      when: whenLabel(what.start, delivery.learner.time_zone),
      durationMinutes: what.minutes,
      location: what.invite.location,
      description: what.description,
    }),
    messageId: envelope.messageId,
    date: now,
    headers: envelope.headers,
    calendar: { method: what.method, content: ics },
  };
}

/**
 * Hands one message to the transport, after the relay's quota allows it and only if this worker
 * still holds the row: the check comes last, just before the message leaves, so that a worker
 * that stalled (a paused VM) and lost the row meanwhile never sends what another worker took.
 */
async function sendMessage(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  message: OutgoingMessage,
): Promise<SendOutcome | Lost | Deferred> {
  if (deps.budget !== undefined) {
    // Wait for a place in a second that is not full; a longer wait (a full minute or day, a
    // relay that asked for a pause) carries the row to then: the lease is not for waiting.
    let at = message.date;
    for (;;) {
      const place = await deps.budget.take(at);
      if (place.granted) break;
      if (place.retryAt.getTime() - at.getTime() > longestQuotaWaitMs) {
        return {
          status: 'deferred',
          until: place.retryAt,
          reason: `${place.reason ?? 'over the relay quota'}: carried to ${place.retryAt.toISOString()}`,
        };
      }
      await deps.waitUntil?.(place.retryAt);
      at = place.retryAt;
    }
  }
  const raw = await composeMessage(message);
  if (!(await deps.store.fence(delivery, sendLeaseSecondsOf(deps)))) return lost;
  const outcome = await deps.transport.send({
    // The envelope sender is the mailbox we read, so that bounces come back to be counted.
    from: deps.mail.replyAddress,
    to: delivery.learner.email,
    raw,
    messageId: message.messageId,
  });
  if (outcome.status === 'retry' && outcome.throttled === true) {
    await deps.budget?.pauseRelay?.(new Date(message.date.getTime() + relayPauseMs));
  }
  return outcome;
}

/** A row the relay's quota carried to later: back to pending, no attempt spent. */
type Deferred = { readonly status: 'deferred'; readonly until: Date; readonly reason: string };

/** How long every worker holds back after the relay answered "too many". */
const relayPauseMs = 60_000;

/** See `DispatchDependencies.sendLeaseSeconds`. */
export function sendLeaseSecondsOf(deps: DispatchDependencies): number {
  return deps.sendLeaseSeconds ?? 3 * (deps.leaseSeconds ?? 300);
}
