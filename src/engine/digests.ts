import { DateTime } from 'luxon';
import { composeMessage } from '../mail/compose.js';
import { describeSuppression, suppressionFor, type ConsentReader } from '../consent/suppression.js';
import { managerDigestHeaders, managerIntroductionHeaders } from '../mail/headers.js';
import type { SendOutcome } from '../mail/transport.js';
import {
  currentDigest,
  digestSchedule,
  introductionTime,
  type DigestSlot,
} from '../planner/index.js';
import { templateContext } from '../render/context.js';
import { dayAndMonth, inPreference } from '../language/dates.js';
import { languagesOf, type Language, type LanguagePreference } from '../language/languages.js';
import {
  renderManagerDigest,
  renderManagerIntroduction,
  renderManagerTips,
  type CompiledProgramme,
  type DigestFlag,
  type DigestLearner,
} from '../render/index.js';
import type { Sequence } from '../sequence/schema.js';
import {
  layoutsOf,
  quotaPlaces,
  sendLeaseSecondsOf,
  type DispatchDependencies,
  type HeldLease,
} from './dispatch.js';

/** A manager with at least one learner on a programme. */
export interface DigestManager {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly zone: string;
  /** The Monday their earliest learner on a programme started: fortnights count from it. */
  readonly anchor: string;
  /** What their digests are in (#15); English when the store does not say. */
  readonly language?: LanguagePreference | undefined;
  /** Their introduction was sent or settled for good, when the store says so (else: ask). */
  readonly introductionSettled?: boolean;
  /** The latest fortnight (its first day) whose digest is settled for good, if known. */
  readonly settledUpTo?: string | undefined;
}

/** What a digest says about one learner, as stored. */
export interface TeamMember {
  readonly learnerId: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly role: string | null;
  readonly organisation: string | null;
  readonly shareWithManager: boolean;
  readonly versionId: number;
  readonly sequence: Sequence;
  readonly pausedUntil: Date | null;
  /** The week of the latest email due by the end of the digest's day; 1 before the first. */
  readonly currentWeek: number;
  /** Weeks before the current one whose emails were sent: what could be done by now. */
  readonly weeksDue: number;
  readonly weeksDone: number;
  /** The learner's latest human reply, and the latest "too hard" or "help" not followed by "done". */
  readonly lastReplyAt: Date | null;
  readonly stuckSince: Date | null;
  readonly firstSentAt: Date | null;
  readonly reflection: { readonly week: number; readonly text: string; readonly at: Date } | null;
}

export type DigestSettlement =
  | { readonly status: 'sent'; readonly messageId: string }
  | { readonly status: 'pending'; readonly retryAt: Date; readonly reason: string }
  | { readonly status: 'failed' | 'skipped'; readonly reason: string };

/**
 * What the digest sender needs from storage; `src/db/digest-store.ts` implements it. It reads
 * suppressions too: a manager who unsubscribed from the digests gets none.
 */
export interface DigestStore extends ConsentReader {
  managers(): Promise<DigestManager[]>;
  /**
   * Takes the fortnight's digest for this worker: inserts its row, or reclaims one whose lease
   * ran out or whose retry is due. Undefined when another worker has it or it is settled.
   */
  claim(input: {
    managerId: number;
    periodStartsOn: string;
    workerId: string;
    leaseSeconds: number;
    now: Date;
  }): Promise<DigestClaim | undefined>;
  /** The check before the digest goes out, as `DispatchStore.fence`. */
  fence(held: HeldLease, sendLeaseSeconds: number): Promise<boolean>;
  /** Records a digest that will not be sent (too late), so that no worker tries again. */
  skip(managerId: number, periodStartsOn: string, reason: string, now: Date): Promise<void>;
  team(managerId: number, now: Date): Promise<TeamMember[]>;
  /** False when another worker took the digest meanwhile: nothing is written. */
  settle(
    held: HeldLease,
    settlement: DigestSettlement,
    learners: number,
    now: Date,
  ): Promise<boolean>;
  /**
   * Learners of this manager whose programme stopped since the manager's last digest that was
   * sent (ever, before the first): each is mentioned in one digest, the next one sent.
   */
  stoppedSince?(managerId: number, now: Date): Promise<StoppedLearner[]>;
  /** The manager's introduction (#14), when the store keeps them; see `IntroductionStore`. */
  readonly introductions?: IntroductionStore;
}

/** A learner who stopped their programme, as the next digest mentions them. */
export interface StoppedLearner {
  readonly firstName: string;
  readonly lastName: string;
  /** The week of the last email they were sent: "stopped in week 3". */
  readonly week: number;
}

/**
 * One introduction per manager, before their first digest, claimed like a digest (a row with a
 * unique key per manager, a lease on the database's clock, a fencing token).
 */
export interface IntroductionStore {
  /** Sent or settled for good (skipped, failed): the digests may follow. */
  settled(managerId: number): Promise<boolean>;
  /** Takes the introduction for this worker, or undefined when another holds it or it waits. */
  claim(input: {
    managerId: number;
    workerId: string;
    leaseSeconds: number;
    now: Date;
  }): Promise<DigestClaim | undefined>;
  fence(held: HeldLease, sendLeaseSeconds: number): Promise<boolean>;
  settle(held: HeldLease, settlement: DigestSettlement, now: Date): Promise<boolean>;
}

/** A fortnight's digest held by this worker, under a lease fenced by `leaseToken`. */
export interface DigestClaim extends HeldLease {
  readonly attempts: number;
}

/** How the tick's digests ended, and `introduced`: manager introductions it sent. */
export type DigestCounts = Record<DigestSettlement['status'] | 'lost' | 'introduced', number>;

/** A digest this late would describe a fortnight that is half over: the next one will do. */
const digestGraceMs = 2 * 24 * 60 * 60 * 1000;
const quietDays = 10;

/**
 * Sends the fortnightly manager digests that are due: for each manager with learners on a
 * programme, the fortnight's slot (see `digestSchedule`: a working-day morning in the manager's
 * zone) once its time has come. One per manager and fortnight whichever worker gets there: the
 * claim is a row with a unique key. A manager with nobody active gets none, except one last
 * digest that tells of the stops since the one before.
 */
export async function digestTick(
  deps: DispatchDependencies,
  store: DigestStore,
  now: Date,
): Promise<DigestCounts> {
  const counts: DigestCounts = {
    sent: 0,
    pending: 0,
    failed: 0,
    skipped: 0,
    lost: 0,
    introduced: 0,
  };
  // Managers a few at a time, as the lanes of a batch of learner mail: each has rows of its own
  // (claimed with a unique key), and one after another the wave's tail waited on every round trip.
  // A failure stops every lane before its next manager, and the tick fails once they are done,
  // as it did one after another: nothing of the tick is left running behind it.
  const managers = await store.managers();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < managers.length && failure === undefined) {
      try {
        await digestFor(managers[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const digestFor = async (manager: DigestManager) => {
    const schedule = scheduleOf(manager);
    // The introduction comes first: no digest until it has gone (or will never go).
    let team: readonly TeamMember[] | undefined;
    if (store.introductions !== undefined && manager.introductionSettled !== true) {
      const introduced = await introduce(deps, store, store.introductions, manager, schedule, now);
      if (introduced.status === 'sent') counts.introduced += 1;
      if (!(introduced.settled ?? (await store.introductions.settled(manager.id)))) return;
      team = introduced.team;
    }
    const slot = currentDigest(schedule, now);
    if (slot === undefined) return;
    // This fortnight's digest went (or will never go): nothing to claim.
    if (manager.settledUpTo !== undefined && slot.periodStartsOn <= manager.settledUpTo) return;
    if (now.getTime() - slot.sendAt.getTime() > digestGraceMs) {
      await store.skip(manager.id, slot.periodStartsOn, 'more than two days late', now);
      return;
    }
    const claim = await store.claim({
      managerId: manager.id,
      periodStartsOn: slot.periodStartsOn,
      workerId: deps.workerId,
      leaseSeconds: deps.leaseSeconds ?? 300,
      now,
    });
    if (claim === undefined) return;
    // The team the introduction was written for a moment ago, in this tick, or read now.
    team = (team ?? (await store.team(manager.id, now))).filter((m) => m.currentWeek >= 1);
    // Checked after the claim, at send time: an unsubscribe since the last tick is honoured.
    const no = suppressionFor(await store.suppressionsOf([manager.email]), { kind: 'digest' });
    // Who stopped since the last digest: told once, even when nobody is left (the last digest).
    const stopped = no === undefined ? ((await store.stoppedSince?.(manager.id, now)) ?? []) : [];
    const settlement =
      no !== undefined
        ? ({ status: 'skipped', reason: `the manager ${describeSuppression(no)}` } as const)
        : team.length === 0 && stopped.length === 0
          ? ({ status: 'skipped', reason: 'no active learners' } as const)
          : await sendDigest(deps, store, manager, slot, { team, stopped }, claim, now);
    const kept = settlement !== 'lost' && (await store.settle(claim, settlement, team.length, now));
    counts[kept ? settlement.status : 'lost'] += 1;
  };
  await Promise.all(
    Array.from({ length: Math.min(deps.concurrency ?? 10, managers.length) }, lane),
  );
  if (failure !== undefined) throw failure.error;
  return counts;
}

/**
 * `digestSchedule` of a manager, worked out once per anchor and zone: a tick looks at every
 * manager, most share both, and the schedule is a dozen zone conversions each time.
 */
function scheduleOf(manager: DigestManager): readonly DigestSlot[] {
  const key = `${manager.anchor} ${manager.zone}`;
  let schedule = schedules.get(key);
  if (schedule === undefined) {
    // Bounded: a worker runs for months, and every new cohort brings a new anchor.
    if (schedules.size >= 10_000) schedules.clear();
    schedule = digestSchedule({ anchor: manager.anchor, zone: manager.zone });
    schedules.set(key, schedule);
  }
  return schedule;
}
const schedules = new Map<string, readonly DigestSlot[]>();

async function sendDigest(
  deps: DispatchDependencies,
  store: DigestStore,
  manager: DigestManager,
  slot: DigestSlot,
  { team, stopped }: { team: readonly TeamMember[]; stopped: StoppedLearner[] },
  claim: DigestClaim,
  now: Date,
): Promise<DigestSettlement | 'lost'> {
  const learners: DigestLearner[] = [];
  const language = manager.language ?? 'en';
  for (const member of team)
    learners.push(await digestLearner(deps, manager, member, now, language));
  const layouts = await layoutsOf(deps);
  const { messageId, replyTo, headers, unsubscribeUrl } = managerDigestHeaders({
    ...deps.mail,
    digestId: claim.id,
    managerId: manager.id,
  });
  const email = renderManagerDigest(
    layouts,
    {
      manager: { firstName: manager.name.split(/\s+/)[0] ?? manager.name },
      period: periodLabel(slot, manager.zone, language),
      learners,
      stopped,
    },
    // Without an https page, the footer's Unsubscribe is a reply "unsubscribe" to the digest's own
    // signed address, which stops this manager's digests (see src/engine/replies.ts).
    {
      replyAddress: replyTo,
      unsubscribeUrl: unsubscribeUrl?.startsWith('https:') ? unsubscribeUrl : undefined,
    },
    { language },
  );
  const raw = await composeMessage({
    from: deps.mail.from,
    to: { name: manager.name, email: manager.email },
    replyTo,
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId,
    date: now,
    headers,
  });
  // A digest is one more message to the same relay: it takes its place in the same quota as the
  // learners' mail (SMTP_MAX_PER_SECOND and the rest), and waits or is carried to later the same.
  const places = quotaPlaces(deps, 1, now);
  const place = await places.take();
  if (place !== 'granted') return { status: 'pending', retryAt: place.until, reason: place.reason };
  // Only while this worker still holds the digest: one that stalled past its lease while another
  // took the fortnight sends nothing (see `sendOne` in dispatch.ts).
  if (!(await store.fence(claim, sendLeaseSecondsOf(deps)))) return 'lost';
  const outcome: SendOutcome = await deps.transport.send({
    from: deps.mail.replyAddress,
    to: manager.email,
    raw,
    messageId,
  });
  if (outcome.status === 'retry' && outcome.throttled === true) await places.relayRefused();
  if (outcome.status === 'sent') return { status: 'sent', messageId };
  if (outcome.status === 'failed' || claim.attempts >= (deps.maxAttempts ?? 8))
    return { status: 'failed', reason: outcome.reason };
  return {
    status: 'pending',
    retryAt: new Date(now.getTime() + deps.retryDelay(claim.attempts)),
    reason: outcome.reason,
  };
}

/** "4 to 17 January" ("4 i 17 Ionawr"), on the manager's calendar, in their language. */
function periodLabel(slot: DigestSlot, zone: string, language: LanguagePreference): string {
  const from = DateTime.fromISO(slot.periodStartsOn, { zone }).toJSDate();
  const to = DateTime.fromISO(slot.periodEndsOn, { zone }).toJSDate();
  const sameMonth =
    DateTime.fromJSDate(from, { zone }).month === DateTime.fromJSDate(to, { zone }).month;
  return inPreference(language, (l) => {
    const start = sameMonth
      ? String(DateTime.fromJSDate(from, { zone }).day)
      : dayAndMonth(from, zone, l);
    return `${start} ${l === 'cy' ? 'i' : 'to'} ${dayAndMonth(to, zone, l)}`;
  });
}

async function digestLearner(
  deps: DispatchDependencies,
  manager: DigestManager,
  member: TeamMember,
  now: Date,
  language: LanguagePreference = 'en',
): Promise<DigestLearner> {
  const week = Math.min(member.currentWeek, member.sequence.weeks.length);
  // The programme's texts in the manager's language, as far as it offers it.
  const compiled = await deps.compiled(member.versionId, member.sequence, language);
  const context = templateContext(
    member.sequence,
    week,
    {
      first_name: member.firstName,
      last_name: member.lastName,
      email: member.email,
      role: member.role,
      organisation: member.organisation,
    },
    { name: manager.name, email: manager.email },
  );
  const reflection =
    member.shareWithManager &&
    member.reflection !== null &&
    now.getTime() - member.reflection.at.getTime() <= 14 * 24 * 60 * 60 * 1000
      ? { week: member.reflection.week, text: member.reflection.text }
      : undefined;
  return {
    firstName: member.firstName,
    lastName: member.lastName,
    programmeTitle: joined(compiled, (l) => compiled.titles.get(l)),
    week,
    totalWeeks: member.sequence.weeks.length,
    theme: joined(compiled, (l) => compiled.weeks.get(week)?.managerTips.get(l)?.theme),
    done: member.weeksDone,
    due: member.weeksDue,
    flags: flagsOf(member, now, manager.zone, language),
    reflection,
    tips: renderManagerTips(compiled, context, 2, language),
  };
}

/** A programme text in each language it was compiled in, Welsh first. */
function joined(
  compiled: CompiledProgramme,
  pick: (language: Language) => string | undefined,
): string {
  return languagesOf(compiled.language)
    .map(pick)
    .filter((text): text is string => text !== undefined && text !== '')
    .join(' / ');
}

/** A flag's detail: the one language's words, or each language's for a bilingual manager. */
function perLanguage(
  language: LanguagePreference,
  say: (language: Language) => string,
): string | Partial<Record<Language, string>> {
  const list = languagesOf(language);
  if (list.length === 1) return say(list[0]!);
  return Object.fromEntries(list.map((l) => [l, say(l)]));
}

/**
 * What a manager should know about a learner this fortnight, most urgent first, in the manager's
 * language. Dates are on the manager's calendar (`zone`): a return on Monday in Sydney may be
 * Sunday in London.
 */
export function flagsOf(
  member: TeamMember,
  now: Date,
  zone: string,
  language: LanguagePreference = 'en',
): DigestFlag[] {
  const flags: DigestFlag[] = [];
  if (member.stuckSince !== null) flags.push({ kind: 'stuck' });
  if (member.pausedUntil !== null && member.pausedUntil > now) {
    flags.push({
      kind: 'paused',
      detail: perLanguage(
        language,
        (l) => `${l === 'cy' ? 'tan' : 'until'} ${dayAndMonth(member.pausedUntil!, zone, l)}`,
      ),
    });
    return flags;
  }
  if (member.weeksDue - member.weeksDone >= 2) flags.push({ kind: 'behind' });
  const since = member.lastReplyAt ?? member.firstSentAt;
  if (since !== null) {
    const days = Math.floor((now.getTime() - since.getTime()) / (24 * 60 * 60 * 1000));
    if (days >= quietDays)
      flags.push({
        kind: 'quiet',
        detail: perLanguage(language, (l) =>
          l === 'cy' ? `ers ${days} diwrnod` : `for ${days} days`,
        ),
      });
  }
  return flags;
}

/**
 * Sends a manager's introduction once its time has come: the morning (08:00, the manager's
 * clock) of the working day before their first digest, or at once for a manager who joins
 * later. What their people will do, what the digest is, the one thing a manager can do. A
 * manager who said no to digests gets none (it is recorded as skipped, and digests stay off).
 * Answers how this tick ended it (no status: nothing was due, or another worker has it);
 * whether the introduction is settled for good, when that is known without asking the database
 * again; and the team it was written for.
 */
async function introduce(
  deps: DispatchDependencies,
  store: DigestStore,
  intros: IntroductionStore,
  manager: DigestManager,
  schedule: readonly DigestSlot[],
  now: Date,
): Promise<{
  status?: DigestSettlement['status'] | 'lost';
  settled?: boolean;
  team?: readonly TeamMember[];
}> {
  const first = schedule[0];
  if (first === undefined || now < introductionTime(first, manager.zone)) return { settled: false };
  if (await intros.settled(manager.id)) return { settled: true };
  const claim = await intros.claim({
    managerId: manager.id,
    workerId: deps.workerId,
    leaseSeconds: deps.leaseSeconds ?? 300,
    now,
  });
  if (claim === undefined) return {};
  const no = suppressionFor(await store.suppressionsOf([manager.email]), { kind: 'digest' });
  const team = await store.team(manager.id, now);
  const settlement: DigestSettlement | 'lost' =
    no !== undefined
      ? { status: 'skipped', reason: `the manager ${describeSuppression(no)}` }
      : team.length === 0
        ? { status: 'skipped', reason: 'no active learners' }
        : await sendIntroduction(deps, intros, manager, first, team, claim, now);
  if (settlement === 'lost' || !(await intros.settle(claim, settlement, now)))
    return { status: 'lost' };
  return { status: settlement.status, settled: settlement.status !== 'pending', team };
}

async function sendIntroduction(
  deps: DispatchDependencies,
  intros: IntroductionStore,
  manager: DigestManager,
  first: DigestSlot,
  team: readonly TeamMember[],
  claim: DigestClaim,
  now: Date,
): Promise<DigestSettlement | 'lost'> {
  const headers = managerIntroductionHeaders({
    ...deps.mail,
    introductionId: claim.id,
    managerId: manager.id,
  });
  const email = renderManagerIntroduction(
    await layoutsOf(deps),
    {
      manager: { firstName: manager.name.split(/\s+/)[0] ?? manager.name },
      learners: team.map((m) => ({
        firstName: m.firstName,
        lastName: m.lastName,
        programmeTitle: m.sequence.title,
      })),
      firstDigest: first.sendAt > now ? { at: first.sendAt, zone: manager.zone } : undefined,
      language: manager.language ?? 'en',
    },
    {
      replyAddress: headers.unsubscribeAddress,
      unsubscribeUrl: headers.unsubscribeUrl?.startsWith('https:')
        ? headers.unsubscribeUrl
        : undefined,
    },
  );
  const raw = await composeMessage({
    from: deps.mail.from,
    to: { name: manager.name, email: manager.email },
    replyTo: headers.replyTo,
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId: headers.messageId,
    date: now,
    headers: headers.headers,
  });
  if (!(await intros.fence(claim, sendLeaseSecondsOf(deps)))) return 'lost';
  const outcome: SendOutcome = await deps.transport.send({
    from: deps.mail.replyAddress,
    to: manager.email,
    raw,
    messageId: headers.messageId,
  });
  if (outcome.status === 'sent') return { status: 'sent', messageId: headers.messageId };
  if (outcome.status === 'failed' || claim.attempts >= (deps.maxAttempts ?? 8))
    return { status: 'failed', reason: outcome.reason };
  return {
    status: 'pending',
    retryAt: new Date(now.getTime() + deps.retryDelay(claim.attempts)),
    reason: outcome.reason,
  };
}
