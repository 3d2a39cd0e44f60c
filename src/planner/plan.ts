import { GymError } from '../errors.js';
import { dayNames, type Sequence } from '../sequence/schema.js';
import { calendarFor, nextWorkingDate, settleSlot, type LearnerCalendar } from './calendar.js';
import { planKey } from './step-key.js';
import {
  addDays,
  compareSlots,
  formatSlot,
  instantOf,
  isIsoDate,
  isValidZone,
  minutesOf,
  mondayOf,
  wallOf,
  type LocalSlot,
} from './local-time.js';

/** One step of one learner's programme, at its moment: what becomes a `deliveries` row. */
export interface PlannedDelivery {
  /** "w01-kickoff": unique per enrolment, sorts by week, never changes when the plan shifts. */
  readonly stepKey: string;
  readonly week: number;
  readonly stepId: string;
  readonly kind: 'email' | 'invite';
  /** The instant it is due (UTC). */
  readonly dueAt: Date;
  /** The same moment on the learner's clock: "2027-05-04T09:00". */
  readonly local: string;
  /**
   * The programme's own slot for the step, on the learner's clock, before working days,
   * holidays, the sending window and the order of steps moved it; a pause shifts this by whole
   * weeks and settles it again, so that a step moved off a bank holiday returns to its weekday.
   * Keep it with the row; an empty or unreadable value falls back to `local`.
   */
  readonly planned: string;
}

export interface EnrolmentPlanInput {
  readonly sequence: Pick<Sequence, 'schedule' | 'weeks'>;
  /** YYYY-MM-DD, the learner's local date. */
  readonly startsOn: string;
  /** IANA zone, such as "Europe/London". */
  readonly zone: string;
  /** The organisation's holidays, YYYY-MM-DD local dates (see holidaysFromList, holidaysFromIcs). */
  readonly holidays: ReadonlySet<string>;
}

/**
 * The timeline of one enrolment: one row per step of the programme, in the programme's order
 * (week, day, time, then the order the file lists them in).
 *
 * - Week 1 is the week of the first working day on or after `startsOn` (a Saturday enrolment
 *   starts on Monday). Steps of week 1 whose day is before that day move to it, at their own
 *   time: nothing is ever due before the start.
 * - A step's time is its `at`, else `schedule.send_at`, on the learner's clock (09:00 stays
 *   09:00 across a change of clocks; a time the clocks skip moves to the first minute after the
 *   skip; a time that happens twice is the first).
 * - Outside `schedule.window` a step moves to the window's opening (the next day's, after it
 *   closes); on a day that is not in `working_days`, or a holiday, to the next working day.
 * - Moving never reorders the programme: a step that would come before the step ahead of it
 *   moves to that step's day, at its own time if that is later, else at the same moment.
 *
 * Throws a user error (`USAGE`) for a zone or date that is not one: validate enrolments first.
 *
 * @example
 * planEnrolment({ sequence, startsOn: '2027-05-03', zone: 'Europe/London', holidays: new Set(['2027-05-03']) })[0]
 *   // { stepKey: 'w01-kickoff', week: 1, stepId: 'kickoff', kind: 'email',
 *   //   dueAt: 2027-05-04T08:00:00.000Z, local: '2027-05-04T09:00', planned: '2027-05-04T09:00' }
 */
export function planEnrolment(input: EnrolmentPlanInput): PlannedDelivery[] {
  const { sequence, startsOn, zone, holidays } = input;
  checkZone(zone);
  if (!isIsoDate(startsOn))
    throw new GymError(
      'USAGE',
      `start date "${startsOn}" is not a date (expected YYYY-MM-DD, such as 2027-05-03)`,
      { startsOn },
    );
  const calendar = calendarFor(sequence.schedule, zone, holidays);
  const start = nextWorkingDate(startsOn, calendar);
  const firstMonday = mondayOf(start);
  const sendAt = minutesOf(sequence.schedule.send_at);

  const steps = sequence.weeks
    .flatMap((week) =>
      week.steps.map((step, index) => {
        const date = addDays(firstMonday, 7 * (week.week - 1) + dayNames.indexOf(step.day));
        const minute = step.at === undefined ? sendAt : minutesOf(step.at);
        return { week: week.week, step, index, slot: { date, minute } };
      }),
    )
    .sort((a, b) => a.week - b.week || compareSlots(a.slot, b.slot) || a.index - b.index);

  const keys = new Set<string>();
  const planned = steps.map(({ week, step, slot }) => {
    const stepKey = uniqueKey(planKey(week, step.id), keys);
    const kind = step.invite === undefined ? ('email' as const) : ('invite' as const);
    const clamped = slot.date < start ? { date: start, minute: slot.minute } : slot;
    return { stepKey, week, stepId: step.id, kind, planned: clamped };
  });

  const settled = settleInOrder(
    planned.map((row) => ({ planned: row.planned })),
    calendar,
  );
  return planned.map((row, i) => ({
    stepKey: row.stepKey,
    week: row.week,
    stepId: row.stepId,
    kind: row.kind,
    ...at(settled[i]!, zone),
    planned: formatSlot(row.planned),
  }));
}

/** A row of a plan being settled: either still to place from its planned slot, or fixed. */
export type Placement = { readonly planned: LocalSlot } | { readonly fixed: LocalSlot };

/**
 * Places rows in programme order: fixed rows stay where they are; every other row is settled on
 * the calendar from its planned slot, then kept at or after the row before it.
 */
export function settleInOrder(rows: readonly Placement[], calendar: LearnerCalendar): LocalSlot[] {
  const placed: LocalSlot[] = [];
  let previous: LocalSlot | undefined;
  for (const row of rows) {
    let slot = 'fixed' in row ? row.fixed : settleSlot(row.planned, calendar);
    if (!('fixed' in row) && previous && compareSlots(slot, previous) < 0) {
      // The previous row's day is a working day and both times are inside the window, so the
      // pushed slot needs no settling of its own.
      slot = { date: previous.date, minute: Math.max(slot.minute, previous.minute) };
    }
    placed.push(slot);
    previous = slot;
  }
  return placed;
}

/** The instant of a settled slot, with its wall-clock text (which differs in a clock gap). */
export function at(slot: LocalSlot, zone: string): { dueAt: Date; local: string } {
  const instant = instantOf(slot, zone);
  return { dueAt: instant.toJSDate(), local: wallOf(instant) };
}

export function checkZone(zone: string): void {
  if (!isValidZone(zone))
    throw new GymError(
      'USAGE',
      `time zone "${zone}" is not an IANA zone name (expected one such as Europe/London or America/New_York)`,
      { zone },
    );
}

/** A duplicated step id (only an unvalidated programme has one) still gets its own key. */
function uniqueKey(key: string, taken: Set<string>): string {
  let candidate = key;
  for (let n = 2; taken.has(candidate); n += 1) candidate = `${key}-${n}`;
  taken.add(candidate);
  return candidate;
}
