import { inviteBodies, whenLabel } from '../calendar/invite.js';
import { writeInvite } from '../calendar/invite-template.js';
import type { OutgoingMessage } from '../mail/compose.js';
import { splicingComposer } from '../mail/splice.js';
import { domainOf, learnerEmailHeaders } from '../mail/headers.js';
import { macOf } from '../mail/tokens.js';
import type { MailTransport, SendOutcome } from '../mail/transport.js';
import {
  dueDecision,
  durationMinutes,
  evaluateCondition,
  type DueDecision,
} from '../planner/index.js';
import { baseKeyOf, stepIdOf, weekPrefix } from '../planner/step-key.js';
import { templateContext } from '../render/context.js';
import type { AcknowledgementPayload } from '../replies/types.js';
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
import { chromeString } from '../language/chrome-text.js';
import type { LanguagePreference } from '../language/languages.js';

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
  /**
   * What the enrolment's mail is in (#15): one language, or both in one email, Welsh first.
   * English when the store does not say.
   */
  readonly language?: LanguagePreference | undefined;
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
  /** Step keys (`w01-kickoff`) the learner has said are done, read with the claim. */
  readonly doneSteps: ReadonlySet<string>;
  /**
   * For an invite, its update or its cancellation: the calendar UID the plan's own row
   * (`w01-practice`) was first sent with, if it was sent; read with the claim.
   */
  readonly sentInviteUid: string | undefined;
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
 * on the database's clock (see `src/db/deliveries.ts`), and so is what is due unless the tick is
 * given a clock of its own. It reads suppressions too, at send time: a row queued before a
 * person said no is never sent.
 */
export interface DispatchStore extends ConsentReader {
  /**
   * Claims due rows, with what it takes to send them, and says at what instant they were due:
   * `now` when given, else the database's clock.
   */
  claim(options: {
    workerId: string;
    limit: number;
    leaseSeconds: number;
    now: Date | undefined;
  }): Promise<{ rows: DueDelivery[]; now: Date | undefined }>;
  /** The heartbeat: extends the leases still held; answers the ids it renewed. */
  renew(held: readonly HeldLease[], leaseSeconds: number): Promise<ReadonlySet<number>>;
  /**
   * Checked just before messages go: answers the rows this holder still has (their leases now
   * extended to `sendLeaseSeconds`); a row missing from the answer was taken by another worker
   * and must not be sent.
   */
  fence(held: readonly HeldLease[], sendLeaseSeconds: number): Promise<ReadonlySet<number>>;
  /** The programme version an enrolment follows. */
  programme(versionId: number): Promise<Sequence>;
  /**
   * Records how rows ended, each only while its holder still has it; answers the rows written
   * (a row missing was lost: another worker reclaimed it, and nothing of it is written).
   */
  settle(
    settled: readonly { readonly held: HeldLease; readonly settlement: Settlement }[],
    now: Date,
  ): Promise<ReadonlySet<number>>;
  /** The database's clock, for a tick that runs on it. */
  databaseNow(): Promise<Date>;
  /** The learner's reflections on this enrolment, oldest first, for the programme-end email. */
  reflectionsOf?(enrolmentId: number): Promise<readonly { week: number; text: string }[]>;
  /** Records that `workerId` ticked (database clock): what it sent, or why the tick failed. */
  recordTick?(
    workerId: string,
    outcome: { sent: number; error?: string | undefined },
  ): Promise<void>;
}

/**
 * The relay's quota shared by every worker (SMTP_MAX_PER_SECOND, _PER_MINUTE, _PER_DAY, and a
 * pause when the relay says "too many").
 */
export interface SendBudget {
  /**
   * Takes up to `count` places at `now`, as many as every limit allows, in one go (a batch asks
   * once, not once per message). When it grants fewer than asked, it says when a place may free
   * up and which limit is full.
   */
  reserve(
    now: Date,
    count: number,
  ): Promise<{ granted: number; retryAt?: Date | undefined; reason?: string | undefined }>;
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
  /**
   * Messages of a batch in flight at once: 10 by default, twice the SMTP pool's 5 connections,
   * so that a connection has its next message waiting while a lane records its last outcome.
   * Also the most messages a worker killed mid-batch can leave sent but not recorded.
   */
  readonly concurrency?: number;
  /** How long a claim holds without renewal (database clock); renewed every third of it. */
  readonly leaseSeconds?: number;
  /**
   * This process's monotonic clock, in milliseconds (`performance.now` when absent): how old a
   * fencing check made ahead is (`fencedAhead`). Tests that simulate a stall move it on.
   */
  readonly elapsedMs?: () => number;
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
  /** Compiles a programme version once per process (and language preference). */
  readonly compiled: (
    versionId: number,
    sequence: Sequence,
    language?: LanguagePreference,
  ) => Promise<CompiledProgramme>;
  /**
   * The layouts acknowledgements and digests are filled from: `gym run` reads them stored
   * (`storedLayouts`), so that its workers never load MJML; compiled here when absent.
   */
  readonly layouts?: () => Promise<CompiledLayouts>;
  /** Where manager digests are claimed; no digests are sent when absent. */
  readonly digests?: DigestStore;
}

// Without `deps.layouts` (tests, the bench), the shipped layouts, compiled by MJML once per process
// the first time an acknowledgement or a digest goes out. Soft, like the programmes in `gym run`:
// the tests validate the layouts strictly.
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

/**
 * One tick of the dispatcher, in three steps:
 * 1. claim a batch of due deliveries (one statement), with the suppressions of their addresses;
 * 2. decide each row (missed after downtime, outside the window, a `when` that no longer holds,
 *    a learner who stopped) and render and compose what goes out, from the precompiled
 *    programme: CPU only, no round trip per row;
 * 3. send what goes out, a few messages in flight at once, each with a place in the relay's
 *    quota (taken for the batch, not per message) and its fencing check just before it leaves;
 *    then record each outcome. The checks and the outcomes of messages that finish together
 *    are written together, one statement for each group (see `grouped`).
 * Outcomes are data; a bad row is settled with its reason and the batch goes on.
 *
 * `now` is the clock that decides what is due; `'database'` for PostgreSQL's `now()`, as
 * `gym run` does on the real clock, so that every worker agrees whatever its own clock says.
 */
export async function dispatchTick(
  deps: DispatchDependencies,
  now: Date | 'database',
): Promise<TickCounts> {
  const counts = noCounts();
  const leaseSeconds = deps.leaseSeconds ?? 300;
  const claimed = await deps.store.claim({
    workerId: deps.workerId,
    limit: deps.batchSize ?? 100,
    leaseSeconds,
    now: now === 'database' ? undefined : now,
  });
  const batch = claimed.rows;
  if (batch.length === 0 || claimed.now === undefined) return counts;
  const at = claimed.now;
  // Consent is read once per batch, after the claim and before anything is sent.
  const suppressions = await deps.store.suppressionsOf(batch.map((d) => d.learner.email));
  const heartbeat = startHeartbeat(deps.store, batch, leaseSeconds);
  const settle = grouped((settled: readonly SettledRow[]) => deps.store.settle(settled, at));
  const record = async (delivery: DueDelivery, attempt: Settlement | Lost) => {
    const kept =
      attempt.status !== 'lost' &&
      (await settle({ held: delivery, settlement: attempt })).has(delivery.id);
    heartbeat.release(delivery.id);
    counts[kept ? attempt.status : 'lost'] += 1;
  };
  try {
    const decide = decisionsOfBatch();
    const outgoing: Outgoing[] = [];
    const decided: Promise<void>[] = [];
    for (const delivery of batch) {
      const prepared =
        (await refused(deps, delivery, suppressions)) ??
        (await prepare(deps, delivery, at, decide));
      if ('raw' in prepared) outgoing.push(prepared);
      else decided.push(record(delivery, prepared));
    }
    // A few messages at a time: SMTP round trips overlap on the transport's pooled connections.
    // Each lane records its message before taking the next, so that a worker killed mid-batch
    // leaves at most one message per lane sent but not recorded (sent again by whoever reclaims).
    const places = quotaPlaces(deps, outgoing.length, at);
    const lanes = Math.min(deps.concurrency ?? 10, outgoing.length);
    const stillHeld = fencedAhead(
      outgoing,
      2 * lanes,
      (held) => deps.store.fence(held, sendLeaseSecondsOf(deps)),
      deps.elapsedMs ?? (() => performance.now()),
    );
    let next = 0;
    const lane = async () => {
      while (next < outgoing.length) {
        const index = next++;
        const item = outgoing[index]!;
        const outcome = await sendOne(deps, item, places, () => stillHeld(index));
        await record(item.delivery, settlementOf(outcome, item, deps, at));
      }
    };
    await Promise.all([...decided, ...Array.from({ length: lanes }, lane)]);
  } finally {
    await heartbeat.stop();
  }
  return counts;
}

type SettledRow = { readonly held: HeldLease; readonly settlement: Settlement };

/**
 * The fencing check before each message (see `sendOne`), made for the next `ahead` messages at
 * once. Lanes take messages in order, so when one asks about message i, messages i to
 * i + ahead - 1 are checked and given the send lease in one statement, and the lanes that take
 * them next find their answer waiting: one statement for every `ahead` messages, where fencing
 * row by row, even grouped, was a third of the wave's statements.
 *
 * An answer is used only while it is fresh (`freshFenceMs`): after a stall (a process stopped,
 * a relay that hung) the row is checked again, as it would have been without the look ahead.
 * A worker killed between check and send leaves at most `ahead` rows on the send lease, taken
 * after it instead of after a lease.
 */
function fencedAhead(
  outgoing: readonly Outgoing[],
  ahead: number,
  fence: (held: readonly HeldLease[]) => Promise<ReadonlySet<number>>,
  elapsedMs: () => number,
): (index: number) => Promise<boolean> {
  const answers: { readonly askedAt: number; readonly held: Promise<ReadonlySet<number>> }[] = [];
  const ask = (from: number, to: number) => {
    const answer = {
      askedAt: elapsedMs(),
      held: fence(outgoing.slice(from, to).map((o) => o.delivery)),
    };
    for (let i = from; i < to; i++) answers[i] = answer;
  };
  return async (index) => {
    const earlier = answers[index];
    if (earlier === undefined) ask(index, Math.min(outgoing.length, index + Math.max(1, ahead)));
    else if (elapsedMs() - earlier.askedAt > freshFenceMs) ask(index, index + 1);
    const answer = answers[index]!;
    const held = (await answer.held).has(outgoing[index]!.delivery.id);
    // A stall while waiting for the answer itself: ask again.
    if (held && elapsedMs() - answer.askedAt > freshFenceMs) {
      ask(index, index + 1);
      return (await answers[index]!.held).has(outgoing[index]!.delivery.id);
    }
    return held;
  };
}

/**
 * How long a fencing check made ahead stands for. Its rows hold the send lease (by default
 * fifteen minutes) from the check; a few seconds of it spent waiting to be sent leaves the relay
 * nearly all of it, as a check made just before sending would.
 */
const freshFenceMs = 5_000;

/**
 * Group commit: calls made while a run of `write` is under way wait for it to end, then go
 * together in the next run, whose answer each of them gets. A lone call runs at once, so no
 * call waits longer than one run for company; with five lanes in flight, five fencing checks
 * or five outcomes become one statement.
 */
function grouped<T, R>(write: (items: readonly T[]) => Promise<R>): (item: T) => Promise<R> {
  let queued: T[] = [];
  let nextRun: Promise<R> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return (item) => {
    queued.push(item);
    if (nextRun === undefined) {
      nextRun = running.then(() => {
        const items = queued;
        queued = [];
        nextRun = undefined;
        return write(items);
      });
      running = nextRun.catch(() => undefined);
    }
    return nextRun;
  };
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

/**
 * When a row goes out (`dueDecision`), asked once per (programme version, zone, due time) in a
 * batch: a wave is thousands of rows due at the same few instants in the same few zones, and
 * each decision costs luxon a few zone conversions. `now` is one instant for the whole batch.
 */
type Decide = (delivery: DueDelivery, sequence: Sequence, now: Date) => DueDecision;

function decisionsOfBatch(): Decide {
  const decisions = new Map<string, DueDecision>();
  return (delivery, sequence, now) => {
    const key = `${delivery.versionId} ${delivery.learner.time_zone} ${delivery.dueAt.getTime()} ${delivery.quotaDeferredUntil?.getTime() ?? ''} ${now.getTime()}`;
    let decision = decisions.get(key);
    if (decision === undefined) {
      decision = dueDecision({
        dueAt: delivery.dueAt,
        lateSince: delivery.quotaDeferredUntil,
        now,
        lateGrace: sequence.schedule.late_grace,
        zone: delivery.learner.time_zone,
        window: sequence.schedule.window,
        workingDays: sequence.schedule.working_days,
      });
      decisions.set(key, decision);
    }
    return decision;
  };
}

/** A message ready to go: composed, with what its row records once it is sent. */
interface Outgoing {
  readonly delivery: DueDelivery;
  readonly raw: Buffer;
  readonly messageId: string;
  /** For an invite's first sending: the calendar UID its row keeps. */
  readonly inviteUid: string | undefined;
}

/** Decides a row and, when it goes out, composes its message; else how it ends. */
async function prepare(
  deps: DispatchDependencies,
  delivery: DueDelivery,
  now: Date,
  decide: Decide,
): Promise<Settlement | Outgoing> {
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
  const decision = decide(delivery, sequence, now);
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
    return outgoingOf(delivery, message, undefined);
  }

  const week = sequence.weeks.find((w) => w.week === delivery.week);
  const step = week?.steps.find((s) => s.id === stepIdOf(delivery.stepKey));
  if (week === undefined || step === undefined) {
    return {
      status: 'failed',
      reason: `step ${delivery.stepKey} is not in the programme version this enrolment follows`,
    };
  }
  const done = delivery.doneSteps;
  if (step.when !== undefined) {
    const prefix = weekPrefix(week.week);
    const doneThisWeek = new Set([...done].filter((k) => k.startsWith(prefix)).map(stepIdOf));
    const condition = evaluateCondition(step.when, doneThisWeek);
    if (!condition.send) return { status: 'skipped', reason: condition.reason };
  }

  const language = delivery.language ?? 'en';
  const compiled = await deps.compiled(delivery.versionId, sequence, language);
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
    const uid = inviteUidOf(deps, delivery);
    // The UID is stored with the plan's own row; an update (`.r2`) reuses it.
    const isUpdate = delivery.stepKey !== baseKeyOf(delivery.stepKey);
    inviteUid = isUpdate ? undefined : uid;
    message = inviteMessage(deps, delivery, envelope, now, {
      uid,
      start,
      invite,
      minutes: durationMinutes(step.invite!.duration),
      method: 'REQUEST',
      subject: `${chromeString(language, (t) => (isUpdate ? t.updatedInvitation : t.invitation))}: ${invite.title}`,
      description: invite.description,
    });
  }
  return outgoingOf(delivery, message, inviteUid);
}

// The process's message templates (#17): each shape of message is built by nodemailer once, and
// every recipient's message is spliced into it (see src/mail/splice.ts).
const composeSpliced = splicingComposer();

async function outgoingOf(
  delivery: DueDelivery,
  message: OutgoingMessage,
  inviteUid: string | undefined,
): Promise<Outgoing> {
  return { delivery, raw: await composeSpliced(message), messageId: message.messageId, inviteUid };
}

function settlementOf(
  outcome: SendOutcome | Lost | Deferred,
  { delivery, messageId, inviteUid }: Outgoing,
  deps: DispatchDependencies,
  now: Date,
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
): Promise<Settlement | Outgoing> {
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
  const language = delivery.language ?? 'en';
  const compiled = await deps.compiled(delivery.versionId, sequence, language);
  const context = templateContext(sequence, week.week, delivery.learner, delivery.manager);
  const invite = renderInvite(compiled, week.week, step.id, context);
  const envelope = envelopeFor(deps, delivery);
  const message = inviteMessage(deps, delivery, envelope, now, {
    uid: inviteUidOf(deps, delivery),
    start,
    invite,
    minutes: durationMinutes(step.invite.duration),
    method: 'CANCEL',
    subject: `${chromeString(language, (t) => t.cancelled)}: ${invite.title}`,
    description: chromeString(language, (t) => t.inviteEnded),
  });
  return outgoingOf(delivery, message, undefined);
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
): Promise<Settlement | Outgoing> {
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
      kind: ack.kind,
      facts: ack.facts,
      question: ack.question,
      // The language the learner wrote in, when we write it and the reader could tell; else the
      // enrolment's.
      language:
        ack.language === 'cy' || ack.language === 'en' ? ack.language : (delivery.language ?? 'en'),
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
  return outgoingOf(delivery, message, undefined);
}

/**
 * Stable per (enrolment, step): every update and the cancellation of an invite reuse it. An
 * invite already sent keeps the UID it went with (those sent before UIDs were signed included);
 * a new one carries a MAC, so nobody can guess the UID of someone else's practice slot and
 * answer it for them (#16).
 */
function inviteUidOf(deps: DispatchDependencies, delivery: DueDelivery): string {
  const base = baseKeyOf(delivery.stepKey);
  if (delivery.sentInviteUid !== undefined) return delivery.sentInviteUid;
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
  const ics = writeInvite({
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
      when: whenLabel(what.start, delivery.learner.time_zone, delivery.language ?? 'en'),
      durationMinutes: what.minutes,
      location: what.invite.location,
      description: what.description,
      language: delivery.language ?? 'en',
    }),
    messageId: envelope.messageId,
    date: now,
    headers: envelope.headers,
    calendar: { method: what.method, content: ics },
  };
}

/**
 * Hands one message to the transport, after the relay's quota gave it a place and only if this
 * worker still holds the row: the check comes last, just before the message leaves (or with the
 * few messages before it: `fencedAhead`), so that a worker that stalled (a paused VM) and lost
 * the row meanwhile never sends what another worker took.
 */
async function sendOne(
  deps: DispatchDependencies,
  item: Outgoing,
  places: QuotaPlaces,
  stillHeld: () => Promise<boolean>,
): Promise<SendOutcome | Lost | Deferred> {
  const place = await places.take();
  if (place !== 'granted') return place;
  if (!(await stillHeld())) return lost;
  const outcome = await deps.transport.send({
    // The envelope sender is the mailbox we read, so that bounces come back to be counted.
    from: deps.mail.replyAddress,
    to: item.delivery.learner.email,
    raw: item.raw,
    messageId: item.messageId,
  });
  if (outcome.status === 'retry' && outcome.throttled === true) await places.relayRefused();
  return outcome;
}

/** The places in the relay's quota of a batch's messages, handed out one at a time. */
export interface QuotaPlaces {
  /** A place for one message, waiting for it when it frees up soon; else when to try again. */
  take(): Promise<'granted' | Deferred>;
  /**
   * The relay answered "too many": every worker pauses, and the places this batch still holds
   * are not used (the messages left ask again, and are carried to after the pause).
   */
  relayRefused(): Promise<void>;
}

/**
 * Takes places in the relay's quota (SMTP_MAX_PER_SECOND, _PER_MINUTE, _PER_DAY, a pause the
 * relay asked for) for `count` messages: as many at once as the limits allow, in one round trip,
 * then more as they run out. A wait for a free place longer than a few seconds (a full minute or
 * day, a paused relay) carries the messages left to then: the lease is not for waiting.
 */
export function quotaPlaces(deps: DispatchDependencies, count: number, now: Date): QuotaPlaces {
  const budget = deps.budget;
  let wanted = count;
  let held = 0;
  let at = now;
  let carried: Deferred | undefined;
  let asking: Promise<void> | undefined;
  const ask = async () => {
    for (;;) {
      const answer = await budget!.reserve(at, wanted);
      if (answer.granted > 0) {
        held += answer.granted;
        wanted -= answer.granted;
        return;
      }
      const retryAt = answer.retryAt ?? new Date(at.getTime() + 1000);
      if (retryAt.getTime() - at.getTime() > longestQuotaWaitMs) {
        carried = {
          status: 'deferred',
          until: retryAt,
          reason: `${answer.reason ?? 'over the relay quota'}: carried to ${retryAt.toISOString()}`,
        };
        return;
      }
      await deps.waitUntil?.(retryAt);
      at = retryAt;
    }
  };
  return {
    async take() {
      if (budget === undefined) return 'granted';
      for (;;) {
        if (held > 0) {
          held -= 1;
          return 'granted';
        }
        if (carried !== undefined) return carried;
        asking ??= ask().finally(() => (asking = undefined));
        await asking;
      }
    },
    async relayRefused() {
      wanted += held;
      held = 0;
      await budget?.pauseRelay?.(new Date(now.getTime() + relayPauseMs));
    },
  };
}

/** A row the relay's quota carried to later: back to pending, no attempt spent. */
export type Deferred = {
  readonly status: 'deferred';
  readonly until: Date;
  readonly reason: string;
};

/** How long every worker holds back after the relay answered "too many". */
const relayPauseMs = 60_000;

/** See `DispatchDependencies.sendLeaseSeconds`. */
export function sendLeaseSecondsOf(deps: DispatchDependencies): number {
  return deps.sendLeaseSeconds ?? 3 * (deps.leaseSeconds ?? 300);
}
