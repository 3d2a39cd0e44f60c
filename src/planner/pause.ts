import { DateTime } from 'luxon';
import type { LearnerCalendar } from './calendar.js';
import { addDays, formatSlot, instantOf, parseSlot, slotOf, type LocalSlot } from './local-time.js';
import { at, checkZone, settleInOrder, type PlannedDelivery, type Placement } from './plan.js';

export interface PauseInput extends LearnerCalendar {
  /** When the learner paused; rows due at or after it are pending and move. */
  readonly pausedAt: Date;
  /** When they asked to come back ("pause until 3 Jan": 3 Jan 00:00 on their clock). */
  readonly resumeAt: Date;
}

export interface ResumeInput extends LearnerCalendar {
  /** When the learner said "resume"; rows due at or after it are pending and may move back. */
  readonly resumedAt: Date;
  /** The `shiftedWeeks` the pause returned: a resume never moves a row back further than that. */
  readonly pausedWeeks: number;
}

export interface ShiftedPlan {
  /**
   * Every row, in the order given: the ones that did not move are the same objects. A pending
   * row whose moment stayed (settled to the same working day) is a new object all the same, with
   * its `planned` slot moved by the whole weeks: save it, for a resume starts from that slot.
   */
  readonly rows: PlannedDelivery[];
  /** The rows whose moment changed, as they are now: re-send their invites with SEQUENCE + 1. */
  readonly changed: PlannedDelivery[];
  /** Whole weeks the pending rows moved: positive for a pause, negative or zero for a resume. */
  readonly shiftedWeeks: number;
}

/** Longest pause the planner will shift a plan by, about ten years: a bound, not a policy. */
const maxWeeks = 520;

/**
 * Pauses a learner's plan. Rows due before `pausedAt` (sent, or missed) stay as they are. Every
 * pending row (due at or after `pausedAt`) moves later by the same whole number of weeks, so
 * the programme keeps its weekly rhythm and its weekdays: the fewest weeks that bring the next
 * pending row to `resumeAt` or later. That is never more than the pause rounded up to whole weeks
 * for a row at its planned slot; a row that holidays had pushed weeks past it can take more (a
 * Friday-only step planned on Christmas Day is due on 8 January with New Year's: paused then for
 * a minute, the plan moves three weeks and the step to the 15th). Each moved row is settled
 * again from its `planned` slot: a holiday or a non-working day at its new date moves it on, and
 * a row moved off last time's holiday goes back to its weekday. Nothing is due while the learner
 * is paused; nothing changes when the next row is already after `resumeAt`.
 *
 * `rows` must be one enrolment's rows in the order `planEnrolment` returned them.
 *
 * @example
 * // Weekly kickoffs on Mondays at 09:00 (London). On Friday 2027-01-08 at 17:00, after the
 * // week's steps, the learner replies "pause until 18 Jan":
 * pausePlan(rows, { pausedAt: new Date('2027-01-08T17:00Z'), resumeAt: new Date('2027-01-18T00:00Z'), ...calendar })
 * // shiftedWeeks 1: Monday 11 January's kickoff moves to Monday 18 January 09:00, and every
 * // later row one week on. (The pause, 9 days and 7 hours, rounded up would be two weeks and
 * // leave the learner waiting until 25 January for no reason.)
 */
export function pausePlan(rows: readonly PlannedDelivery[], input: PauseInput): ShiftedPlan {
  checkZone(input.zone);
  const pending = rows.map((row) => row.dueAt.getTime() >= input.pausedAt.getTime());
  if (!pending.includes(true) || input.resumeAt <= input.pausedAt) return unchanged(rows);
  for (let weeks = 0; weeks <= maxWeeks; weeks += 1) {
    if (nextPendingAt(rows, pending, weeks, input) < input.resumeAt.getTime()) continue;
    const shifted = shift(rows, pending, weeks, input);
    if (earliestPending(shifted, pending) >= input.resumeAt.getTime()) return shifted;
  }
  return shift(rows, pending, maxWeeks, input);
}

/**
 * Resumes a paused plan early: the learner replied "resume" before `resumeAt`. The pending rows
 * (due at or after `resumedAt`) move back by the whole weeks of the pause that were not used:
 * as many as keep the next pending row at or after `resumedAt`, and at most `pausedWeeks`, so
 * that no row comes earlier than the plan before the pause had it. Resuming at the moment of
 * the pause gives back the plan before the pause; resuming at `resumeAt` changes nothing.
 *
 * @example
 * // Paused on Wednesday 2027-01-13 at 10:00 "for 3 weeks": that day's 14:00 practice moved to
 * // 3 February, Thursday's nudge to 4 February, every later row 3 weeks on (shiftedWeeks 3).
 * // The learner replies "resume" on Tuesday 2027-01-19 at 08:00:
 * resumePlan(paused.rows, { resumedAt: new Date('2027-01-19T08:00Z'), pausedWeeks: 3, ...calendar })
 * // shiftedWeeks -2: the practice is on Wednesday 20 January at 14:00, the nudge on the 21st,
 * // the next kickoff on Monday 25 January: the learner carries on where they stopped.
 */
export function resumePlan(rows: readonly PlannedDelivery[], input: ResumeInput): ShiftedPlan {
  checkZone(input.zone);
  const pending = rows.map((row) => row.dueAt.getTime() >= input.resumedAt.getTime());
  if (!pending.includes(true)) return unchanged(rows);
  const most = Math.min(Math.max(0, Math.floor(input.pausedWeeks)), maxWeeks);
  for (let weeks = most; weeks > 0; weeks -= 1) {
    if (nextPendingAt(rows, pending, -weeks, input) < input.resumedAt.getTime()) continue;
    const shifted = shift(rows, pending, -weeks, input);
    if (earliestPending(shifted, pending) >= input.resumedAt.getTime()) return shifted;
  }
  return unchanged(rows);
}

/**
 * Where the next pending row would land, shifted by `weeks`: all it depends on is its own
 * planned slot and the row before it. A quick test before shifting the whole plan.
 */
function nextPendingAt(
  rows: readonly PlannedDelivery[],
  pending: readonly boolean[],
  weeks: number,
  calendar: LearnerCalendar,
): number {
  const next = pending.indexOf(true);
  const before = rows[next - 1];
  const placements: Placement[] = [
    ...(before ? [{ fixed: fixedSlot(before, calendar.zone) }] : []),
    { planned: addWeeks(plannedSlot(rows[next]!, calendar.zone), weeks) },
  ];
  return instantOf(settleInOrder(placements, calendar).at(-1)!, calendar.zone).toMillis();
}

function shift(
  rows: readonly PlannedDelivery[],
  pending: readonly boolean[],
  weeks: number,
  calendar: LearnerCalendar,
): ShiftedPlan {
  const placements: Placement[] = rows.map((row, i) =>
    pending[i]
      ? { planned: addWeeks(plannedSlot(row, calendar.zone), weeks) }
      : { fixed: fixedSlot(row, calendar.zone) },
  );
  const slots = settleInOrder(placements, calendar);
  const changed: PlannedDelivery[] = [];
  const next = rows.map((row, i) => {
    const placement = placements[i]!;
    if (!('planned' in placement)) return row;
    const moved: PlannedDelivery = {
      ...row,
      ...at(slots[i]!, calendar.zone),
      planned: formatSlot(placement.planned),
    };
    if (moved.dueAt.getTime() !== row.dueAt.getTime()) changed.push(moved);
    // A row can keep its moment and still move: crowded behind the row ahead, or carried past a
    // holiday to the same working day. Its `planned` slot moved all the same, and the next pause
    // or resume settles it from there: only a row that did not move at all is kept as it was.
    else if (moved.planned === row.planned) return row;
    return moved;
  });
  return { rows: next, changed, shiftedWeeks: weeks };
}

function fixedSlot(row: PlannedDelivery, zone: string): LocalSlot {
  return parseSlot(row.local) ?? slotOf(row.dueAt, zone);
}

function plannedSlot(row: PlannedDelivery, zone: string): LocalSlot {
  return parseSlot(row.planned) ?? parseSlot(row.local) ?? slotOf(row.dueAt, zone);
}

function addWeeks(slot: LocalSlot, weeks: number): LocalSlot {
  return { date: addDays(slot.date, 7 * weeks), minute: slot.minute };
}

function earliestPending(plan: ShiftedPlan, pending: readonly boolean[]): number {
  return Math.min(...plan.rows.flatMap((row, i) => (pending[i] ? [row.dueAt.getTime()] : [])));
}

function unchanged(rows: readonly PlannedDelivery[]): ShiftedPlan {
  return { rows: [...rows], changed: [], shiftedWeeks: 0 };
}

/**
 * When a pause ends: "until 3 Jan" at the start of that day on the learner's clock (when it is
 * still to come), otherwise whole weeks from `now` (one when none is said). The one rule for a
 * learner's reply ("pause for 2 weeks") and a trainer's `gym learner pause --weeks 2`.
 *
 * @example pauseEndsAt({ weeks: 2 }, 'Europe/London', now) // now + 14 days
 */
export function pauseEndsAt(
  pause: { readonly weeks?: number | undefined; readonly until?: string | undefined },
  zone: string,
  now: Date,
): Date {
  if (pause.until !== undefined) {
    const day = DateTime.fromISO(pause.until, { zone }).startOf('day');
    if (day.isValid && day.toJSDate() > now) return day.toJSDate();
  }
  return new Date(now.getTime() + (pause.weeks ?? 1) * 7 * 24 * 60 * 60 * 1000);
}
