import { buildInvite, inviteBodies, whenLabel } from '../calendar/invite.js';
import { composeMessage, type OutgoingMessage } from '../mail/compose.js';
import { domainOf, learnerEmailHeaders } from '../mail/headers.js';
import { macOf } from '../mail/tokens.js';
import type { MailTransport, SendOutcome } from '../mail/transport.js';
import { dueDecision, durationMinutes, evaluateCondition } from '../planner/index.js';
import { templateContext } from '../render/context.js';
import type { AcknowledgementPayload } from '../db/schema.js';
import type { DigestStore } from './digests.js';
import {
  compileLayouts,
  renderAcknowledgement,
  renderInvite,
  renderStep,
  type CompiledLayouts,
  type CompiledProgramme,
} from '../render/index.js';
import type { Sequence } from '../sequence/schema.js';

/** A claimed delivery with what it takes to send it. */
export interface DueDelivery {
  readonly id: number;
  readonly enrolmentId: number;
  readonly versionId: number;
  readonly stepKey: string;
  readonly week: number;
  readonly kind: 'email' | 'invite' | 'acknowledgement';
  /** What an acknowledgement says; null for the plan's rows. */
  readonly payload: AcknowledgementPayload | null;
  readonly dueAt: Date;
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
    }
  | { readonly status: 'failed' | 'skipped' | 'missed' | 'cancelled'; readonly reason: string };

/** What the dispatcher needs from storage; `src/db/dispatch-store.ts` implements it. */
export interface DispatchStore {
  claim(options: {
    workerId: string;
    limit: number;
    leaseSeconds: number;
    now: Date;
  }): Promise<DueDelivery[]>;
  /** The programme version an enrolment follows. */
  programme(versionId: number): Promise<Sequence>;
  /** Step keys (`w01-kickoff`) the learner has said are done. */
  doneSteps(enrolmentId: number): Promise<ReadonlySet<string>>;
  /** False when the lease was lost (another worker reclaimed the row): nothing is written. */
  settle(id: number, workerId: string, settlement: Settlement, now: Date): Promise<boolean>;
  /** The calendar UID an invite of this plan row (`w01-practice`) was first sent with, if any. */
  sentInviteUid?(enrolmentId: number, stepKey: string): Promise<string | undefined>;
}

/** A cap on sends per second shared by every worker (SMTP_MAX_PER_SECOND). */
export interface SendBudget {
  /** Takes one place in the second of `now`, or says when the next second starts. */
  take(now: Date): Promise<{ granted: true } | { granted: false; retryAt: Date }>;
}

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
  readonly leaseSeconds?: number;
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
  const batch = await deps.store.claim({
    workerId: deps.workerId,
    limit: deps.batchSize ?? 100,
    leaseSeconds: deps.leaseSeconds ?? 300,
    now,
  });
  // A few messages at a time: SMTP round trips overlap on the transport's pooled connections.
  let next = 0;
  const lane = async () => {
    while (next < batch.length) {
      const delivery = batch[next++]!;
      const settlement = await settleOne(deps, delivery, now);
      const kept = await deps.store.settle(delivery.id, deps.workerId, settlement, now);
      counts[kept ? settlement.status : 'lost'] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 5, batch.length) }, lane));
  return counts;
}

async function settleOne(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  now: Date,
): Promise<Settlement> {
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
  outcome: SendOutcome,
  delivery: DueDelivery,
  deps: DispatchDependencies,
  now: Date,
  messageId: string,
  inviteUid: string | undefined,
): Settlement {
  if (outcome.status === 'sent') return { status: 'sent', messageId, inviteUid };
  if (outcome.status === 'failed') return { status: 'failed', reason: outcome.reason };
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
): Promise<Settlement> {
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
): Promise<Settlement> {
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

interface Envelope {
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

async function sendMessage(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  message: OutgoingMessage,
): Promise<SendOutcome> {
  if (deps.budget !== undefined) {
    // Wait for a place in a second that is not full; the relay's quota is everyone's.
    let at = message.date;
    for (;;) {
      const place = await deps.budget.take(at);
      if (place.granted) break;
      await deps.waitUntil?.(place.retryAt);
      at = place.retryAt;
    }
  }
  return deps.transport.send({
    // The envelope sender is the mailbox we read, so that bounces come back to be counted.
    from: deps.mail.replyAddress,
    to: delivery.learner.email,
    raw: await composeMessage(message),
    messageId: message.messageId,
  });
}
