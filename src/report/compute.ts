import type { ContactStatus, EnrolmentStatus, ProgressEventKind } from '../db/schema.js';
import { planKey } from '../planner/step-key.js';
import type { NeedsTrainer } from '../db/needs-trainer.js';

/**
 * The trainer's report, computed from plain rows and a `now`: no I/O here. `snapshot.ts` reads
 * the rows; the renderers turn the result into a table, CSV or an HTML page.
 */

// ---------------------------------------------------------------------------------------------
// What the report reads (filled by snapshot.ts, or by hand in tests)
// ---------------------------------------------------------------------------------------------

/** One stored version of a programme, reduced to what the report needs. */
export interface ProgrammeVersionData {
  readonly versionId: number;
  readonly programmeId: string;
  readonly title: string;
  /** How many weeks the programme has (12 for every shipped one). */
  readonly weeks: number;
  /** Per week, the step whose email carries the assignment, as a delivery step key (`w01-kickoff`). */
  readonly assignmentSteps: readonly { readonly week: number; readonly stepKey: string }[];
}

/** A learner and the enrolment the report is about (their latest one, in the cohort if given). */
export interface LearnerData {
  readonly enrolmentId: number;
  readonly learnerId: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly learnerStatus: ContactStatus;
  readonly managerId: number | null;
  readonly versionId: number;
  readonly cohort: string | null;
  readonly startsOn: string;
  readonly enrolmentStatus: EnrolmentStatus;
  readonly pausedUntil: Date | null;
}

/** What the plan has sent an enrolment so far (emails and invites; not acknowledgements). */
export interface SentSummary {
  readonly enrolmentId: number;
  readonly firstSentAt: Date;
  /** The highest week with anything sent: where the learner has got to. */
  readonly lastWeek: number;
  readonly emailsSent: number;
}

/** A sent email that may be a week's assignment (compute checks it against the version). */
export interface AssignmentSent {
  readonly enrolmentId: number;
  readonly stepKey: string;
  readonly week: number;
  readonly sentAt: Date;
}

/** A progress event from a learner's reply (calendar RSVPs are left out: a client sends those). */
export interface EventData {
  readonly enrolmentId: number;
  readonly kind: ProgressEventKind;
  /** `data.week`: the week of the email the reply answered; null when missing. */
  readonly week: number | null;
  readonly occurredAt: Date;
}

export interface ManagerData {
  readonly managerId: number;
  readonly name: string;
  readonly email: string;
  readonly digestsSent: number;
  /** Their answers to digests ("talked to Sam"): their engagement. */
  readonly replies: number;
  readonly lastEngagementAt: Date | null;
}

export interface ReportData {
  readonly now: Date;
  /** Replies that asked for a person in the last `stuckWindowDays` (too hard, help, rejoin). */
  readonly needsTrainer: readonly NeedsTrainer[];
  readonly cohort: string | undefined;
  readonly programmes: readonly ProgrammeVersionData[];
  readonly learners: readonly LearnerData[];
  readonly sent: readonly SentSummary[];
  readonly assignmentsSent: readonly AssignmentSent[];
  readonly events: readonly EventData[];
  readonly managers: readonly ManagerData[];
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/**
 * `finished`: the plan ran out (every step sent, skipped or missed); it says nothing about the
 * work done, which `done` of `weeks` tells (see `statusLabel`).
 */
export const learnerStatuses = [
  'active',
  'paused',
  'finished',
  'stopped',
  'bounced',
  'unsubscribed',
] as const;
export type LearnerStatus = (typeof learnerStatuses)[number];

export const flagNames = ['stuck', 'quiet', 'paused', 'behind'] as const;
export type FlagName = (typeof flagNames)[number];

export interface LearnerFlags {
  /** Said "too hard" or asked for help in the last 14 days, and has not said "done" since. */
  readonly stuck: boolean;
  /** Active, has had an email, and no reply for 10 days or more (since the first email if never). */
  readonly quiet: boolean;
  /** On a pause (see `pausedUntil`); a paused learner is neither quiet nor behind. */
  readonly paused: boolean;
  /** Active, with two or more sent assignments not done (done < due - 1). */
  readonly behind: boolean;
}

export interface LearnerReport {
  readonly enrolmentId: number;
  readonly name: string;
  readonly email: string;
  readonly managerId: number | null;
  readonly manager: string | undefined;
  readonly programmeId: string;
  readonly programme: string;
  readonly cohort: string | null;
  /** The highest week anything was sent for; 0 before the first email. */
  readonly currentWeek: number;
  /** Distinct weeks the learner said "done". */
  readonly done: number;
  /** Weeks whose assignment email has been sent. */
  readonly due: number;
  /** The programme's length in weeks: a finished learner did `done` of these. */
  readonly weeks: number;
  readonly lastReplyAt: Date | undefined;
  readonly status: LearnerStatus;
  readonly pausedUntil: Date | undefined;
  readonly flags: LearnerFlags;
}

export interface ProgrammeReport {
  readonly programmeId: string;
  readonly title: string;
  readonly weeks: number;
  readonly learners: number;
  /** `funnel[n - 1]`: learners who have said week n is done. */
  readonly funnel: readonly number[];
  /** Learners who have been sent anything. */
  readonly sentTo: number;
  /** Of those, learners who replied at least once. */
  readonly repliers: number;
  /** repliers / sentTo; undefined before anything was sent. */
  readonly replyRate: number | undefined;
  /** Median days from a week's assignment email to that week's "done"; undefined with none. */
  readonly medianDaysToDone: number | undefined;
}

export interface ManagerReport {
  readonly managerId: number;
  readonly name: string;
  readonly email: string;
  readonly learners: number;
  readonly done: number;
  readonly due: number;
  readonly sentTo: number;
  readonly repliers: number;
  readonly replyRate: number | undefined;
  readonly digestsSent: number;
  readonly replies: number;
  readonly lastEngagementAt: Date | undefined;
}

export interface ReportTotals {
  readonly learners: number;
  readonly byStatus: Readonly<Record<LearnerStatus, number>>;
  readonly flags: Readonly<Record<FlagName, number>>;
  readonly done: number;
  readonly due: number;
  readonly sentTo: number;
  readonly repliers: number;
  readonly replyRate: number | undefined;
  readonly programmes: number;
  readonly managers: number;
}

export interface Report {
  readonly generatedAt: Date;
  /** "Needs the trainer": each reply that asked for a person, with the learner's words. */
  readonly needsTrainer: readonly NeedsTrainer[];
  readonly cohort: string | undefined;
  readonly learners: readonly LearnerReport[];
  readonly programmes: readonly ProgrammeReport[];
  readonly managers: readonly ManagerReport[];
  readonly totals: ReportTotals;
}

const day = 24 * 60 * 60 * 1000;
export const stuckWindowDays = 14;
export const quietAfterDays = 10;

/** The step key the planner gives a step: `w03-kickoff`. */
export function stepKeyOf(week: number, stepId: string): string {
  return planKey(week, stepId);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The weeks and assignment steps of a stored programme definition. Read defensively: it is
 * jsonb written by an older or newer engine, and a report must not fail on one odd version.
 * A week without an assignment counts its first email, as a learner's "done" does.
 */
export function programmeShape(definition: unknown): {
  weeks: number;
  assignmentSteps: { week: number; stepKey: string }[];
} {
  const weeks = isRecord(definition) && Array.isArray(definition.weeks) ? definition.weeks : [];
  const assignmentSteps: { week: number; stepKey: string }[] = [];
  let highest = 0;
  for (const week of weeks) {
    if (!isRecord(week) || typeof week.week !== 'number' || !Array.isArray(week.steps)) continue;
    highest = Math.max(highest, week.week);
    const emails = week.steps.filter(
      (s): s is Record<string, unknown> & { id: string; email: Record<string, unknown> } =>
        isRecord(s) && typeof s.id === 'string' && isRecord(s.email),
    );
    const step = emails.find((s) => s.email.assignment !== undefined) ?? emails[0];
    if (step) assignmentSteps.push({ week: week.week, stepKey: stepKeyOf(week.week, step.id) });
  }
  return { weeks: highest, assignmentSteps };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const rate = (part: number, whole: number): number | undefined =>
  whole === 0 ? undefined : part / whole;

function statusOf(learner: LearnerData, now: Date): LearnerStatus {
  // A bounced or unsubscribed address says more than the enrolment it ended.
  if (learner.learnerStatus !== 'active') return learner.learnerStatus;
  // The engine pauses by moving the plan and setting `paused_until`; the enrolment itself stays
  // active (see shift-store.ts), so a pause still to run out is what "paused" means here.
  if (learner.enrolmentStatus === 'active' && learner.pausedUntil && learner.pausedUntil > now)
    return 'paused';
  return learner.enrolmentStatus === 'completed' ? 'finished' : learner.enrolmentStatus;
}

/** Per learner, plus what the programme figures need (done instants against sent instants). */
interface LearnerFacts {
  readonly report: LearnerReport;
  readonly doneWeeks: ReadonlySet<number>;
  readonly daysToDone: readonly number[];
  readonly sentAnything: boolean;
  readonly replied: boolean;
}

function learnerFacts(
  learner: LearnerData,
  version: ProgrammeVersionData | undefined,
  sent: SentSummary | undefined,
  assignments: readonly AssignmentSent[],
  events: readonly EventData[],
  manager: ManagerData | undefined,
  now: Date,
): LearnerFacts {
  const weeks = version?.weeks ?? 12;
  const assignmentKeys = new Set(version?.assignmentSteps.map((s) => s.stepKey));
  // When each week's assignment went out (the first time, should a row ever repeat).
  const assignmentSentAt = new Map<number, Date>();
  for (const a of assignments) {
    if (!assignmentKeys.has(a.stepKey)) continue;
    const before = assignmentSentAt.get(a.week);
    if (!before || a.sentAt < before) assignmentSentAt.set(a.week, a.sentAt);
  }

  // The first "done" per week: a second "done" for the same week changes nothing.
  const doneAt = new Map<number, Date>();
  let lastReplyAt: Date | undefined;
  let lastTrouble: Date | undefined;
  let lastDone: Date | undefined;
  for (const e of events) {
    if (!lastReplyAt || e.occurredAt > lastReplyAt) lastReplyAt = e.occurredAt;
    if (e.kind === 'done') {
      if (!lastDone || e.occurredAt > lastDone) lastDone = e.occurredAt;
      if (e.week !== null && e.week >= 1 && e.week <= weeks) {
        const before = doneAt.get(e.week);
        if (!before || e.occurredAt < before) doneAt.set(e.week, e.occurredAt);
      }
    }
    if (e.kind === 'too_hard' || e.kind === 'help') {
      if (!lastTrouble || e.occurredAt > lastTrouble) lastTrouble = e.occurredAt;
    }
  }

  const daysToDone: number[] = [];
  for (const [week, done] of doneAt) {
    const sentAt = assignmentSentAt.get(week);
    // A "done" can arrive before the assignment (a reply to an earlier email): zero days, not negative.
    if (sentAt) daysToDone.push(Math.max(0, (done.getTime() - sentAt.getTime()) / day));
  }

  const status = statusOf(learner, now);
  const open = status === 'active' || status === 'paused';
  const done = doneAt.size;
  const due = assignmentSentAt.size;
  const stuck =
    open &&
    lastTrouble !== undefined &&
    now.getTime() - lastTrouble.getTime() <= stuckWindowDays * day &&
    (lastDone === undefined || lastDone < lastTrouble);
  const silentSince = lastReplyAt ?? sent?.firstSentAt;
  const quiet =
    status === 'active' &&
    (sent?.emailsSent ?? 0) > 0 &&
    silentSince !== undefined &&
    now.getTime() - silentSince.getTime() >= quietAfterDays * day;

  return {
    report: {
      enrolmentId: learner.enrolmentId,
      name: `${learner.firstName} ${learner.lastName}`.trim(),
      email: learner.email,
      managerId: learner.managerId,
      manager: manager?.name,
      programmeId: version?.programmeId ?? 'unknown',
      programme: version?.title ?? 'unknown programme',
      cohort: learner.cohort,
      currentWeek: sent?.lastWeek ?? 0,
      done,
      due,
      weeks,
      lastReplyAt,
      status,
      pausedUntil: status === 'paused' ? (learner.pausedUntil ?? undefined) : undefined,
      // As in the manager's digest: a pause explains the missing work, so it is not "behind".
      flags: {
        stuck,
        quiet,
        paused: status === 'paused',
        behind: status === 'active' && done < due - 1,
      },
    },
    doneWeeks: new Set(doneAt.keys()),
    daysToDone,
    sentAnything: sent !== undefined,
    replied: lastReplyAt !== undefined,
  };
}

const byName = (a: LearnerReport, b: LearnerReport) =>
  a.name.localeCompare(b.name, 'en-GB') || a.email.localeCompare(b.email);

export function computeReport(data: ReportData): Report {
  const versions = new Map(data.programmes.map((p) => [p.versionId, p]));
  const sent = new Map(data.sent.map((s) => [s.enrolmentId, s]));
  const assignments = groupBy(data.assignmentsSent, (a) => a.enrolmentId);
  const events = groupBy(data.events, (e) => e.enrolmentId);
  const managersById = new Map(data.managers.map((m) => [m.managerId, m]));

  const facts = data.learners.map((learner) =>
    learnerFacts(
      learner,
      versions.get(learner.versionId),
      sent.get(learner.enrolmentId),
      assignments.get(learner.enrolmentId) ?? [],
      events.get(learner.enrolmentId) ?? [],
      learner.managerId === null ? undefined : managersById.get(learner.managerId),
      data.now,
    ),
  );
  facts.sort((a, b) => byName(a.report, b.report));

  // Programmes are reported by id across their versions: a trainer thinks of "the programme".
  const programmeWeeks = new Map<string, { title: string; weeks: number }>();
  for (const p of data.programmes) {
    const known = programmeWeeks.get(p.programmeId);
    programmeWeeks.set(p.programmeId, {
      title: known?.title ?? p.title,
      weeks: Math.max(known?.weeks ?? 0, p.weeks),
    });
  }
  const programmes: ProgrammeReport[] = [
    ...groupBy(facts, (f) => f.report.programmeId).entries(),
  ].map(([programmeId, members]) => {
    const shape = programmeWeeks.get(programmeId);
    const weeks = shape?.weeks ?? 12;
    const sentTo = members.filter((m) => m.sentAnything).length;
    const repliers = members.filter((m) => m.sentAnything && m.replied).length;
    return {
      programmeId,
      title: shape?.title ?? members[0]!.report.programme,
      weeks,
      learners: members.length,
      funnel: Array.from(
        { length: weeks },
        (_, i) => members.filter((m) => m.doneWeeks.has(i + 1)).length,
      ),
      sentTo,
      repliers,
      replyRate: rate(repliers, sentTo),
      medianDaysToDone: median(members.flatMap((m) => m.daysToDone)),
    };
  });
  programmes.sort((a, b) => a.title.localeCompare(b.title, 'en-GB'));

  const byManager = groupBy(
    facts.filter((f) => f.report.managerId !== null),
    (f) => f.report.managerId,
  );
  const managers: ManagerReport[] = data.managers
    .filter((m) => byManager.has(m.managerId))
    .map((m) => {
      const members = byManager.get(m.managerId) ?? [];
      const sentTo = members.filter((f) => f.sentAnything).length;
      const repliers = members.filter((f) => f.sentAnything && f.replied).length;
      return {
        managerId: m.managerId,
        name: m.name,
        email: m.email,
        learners: members.length,
        done: members.reduce((sum, f) => sum + f.report.done, 0),
        due: members.reduce((sum, f) => sum + f.report.due, 0),
        sentTo,
        repliers,
        replyRate: rate(repliers, sentTo),
        digestsSent: m.digestsSent,
        replies: m.replies,
        lastEngagementAt: m.lastEngagementAt ?? undefined,
      };
    });
  managers.sort((a, b) => a.name.localeCompare(b.name, 'en-GB') || a.managerId - b.managerId);

  const learners = facts.map((f) => f.report);
  const count = (predicate: (l: LearnerReport) => boolean) => learners.filter(predicate).length;
  const sentTo = facts.filter((f) => f.sentAnything).length;
  const repliers = facts.filter((f) => f.sentAnything && f.replied).length;
  return {
    generatedAt: data.now,
    needsTrainer: data.needsTrainer,
    cohort: data.cohort,
    learners,
    programmes,
    managers,
    totals: {
      learners: learners.length,
      byStatus: Object.fromEntries(
        learnerStatuses.map((s) => [s, count((l) => l.status === s)]),
      ) as Record<LearnerStatus, number>,
      flags: Object.fromEntries(flagNames.map((f) => [f, count((l) => l.flags[f])])) as Record<
        FlagName,
        number
      >,
      done: learners.reduce((sum, l) => sum + l.done, 0),
      due: learners.reduce((sum, l) => sum + l.due, 0),
      sentTo,
      repliers,
      replyRate: rate(repliers, sentTo),
      programmes: programmes.length,
      managers: managers.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Shared wording for the renderers
// ---------------------------------------------------------------------------------------------

/** A calendar day in UTC: the report mixes learners in many zones, so it names one. */
export function formatDay(date: Date | undefined): string {
  return date === undefined ? '' : date.toISOString().slice(0, 10);
}

export function formatPercent(value: number | undefined): string {
  return value === undefined ? '' : `${Math.round(value * 100)}%`;
}

export function formatDays(value: number | undefined): string {
  return value === undefined ? '' : value.toFixed(1);
}

/** "stuck, behind, paused until 2027-01-25": the flags that are on, in words. */
export function describeFlags(
  learner: LearnerReport,
  formatDate: (date: Date) => string = formatDay,
): string {
  return flagNames
    .filter((f) => learner.flags[f])
    .map((f) =>
      f === 'paused' && learner.pausedUntil ? `paused until ${formatDate(learner.pausedUntil)}` : f,
    )
    .join(', ');
}

/** "25 Jan": short enough for a terminal column; the year is the report's (or close to it). */
export function formatShortDay(date: Date): string {
  return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/**
 * A learner's status in words. A finished programme says how much of it was done, so that a
 * plan that ran out with nothing done never reads as a success: "finished, 9 of 12 done",
 * "finished, none of 12 done".
 */
export function statusLabel(learner: Pick<LearnerReport, 'status' | 'done' | 'weeks'>): string {
  if (learner.status !== 'finished') return learner.status;
  return `finished, ${learner.done === 0 ? 'none' : learner.done} of ${learner.weeks} done`;
}
