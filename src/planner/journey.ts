import type { Sequence } from '../sequence/schema.js';
import { calendarFor, isWorkingDate, nextWorkingDate, type LearnerCalendar } from './calendar.js';
import { addDays, formatSlot, minutesOf, parseSlot, slotOf } from './local-time.js';
import { at, type PlannedDelivery } from './plan.js';

/** The plan's first and last rows around the programme's steps: the welcome and the end. */
export interface JourneyDelivery {
  readonly stepKey: 'welcome' | 'programme-end';
  readonly kind: 'welcome' | 'programme_end';
  /** The week it belongs to in reports and pauses: 1 for the welcome, the last for the end. */
  readonly week: number;
  readonly sendAt: Date;
  readonly startsAt: undefined;
  /** The moment on the learner's clock: "2027-01-01T09:00". */
  readonly local: string;
  readonly planned: string;
}

export interface JourneyInput {
  readonly sequence: Pick<Sequence, 'schedule' | 'weeks'>;
  readonly zone: string;
  readonly holidays: ReadonlySet<string>;
  /** The programme's steps, as `planEnrolment` returns them (not empty). */
  readonly plan: readonly PlannedDelivery[];
  /** The moment of enrolment; without it, the welcome goes on the working day before week 1. */
  readonly now?: Date | undefined;
}

/**
 * When the welcome goes out, at the learner's morning (`schedule.send_at` on their clock): the
 * next one (today's, if it is still to come on a working day), or the morning of the working day
 * before week 1 if that is sooner. Once that day's morning has passed (enrolled on the Friday
 * afternoon for a Monday start, or after week 1 began), it goes on enrolment if today is a
 * working day for the learner, else on their next working morning, ahead of that morning's step.
 *
 * @example
 * // Enrolled on Wednesday 2026-12-30 at 15:00 London time, week 1 on Monday 2027-01-04:
 * planWelcome({ sequence, zone: 'Europe/London', holidays, plan, now })
 *   // { stepKey: 'welcome', local: '2026-12-31T09:00', ... }: the next morning
 */
export function planWelcome(input: JourneyInput): JourneyDelivery {
  const { sequence, zone, plan, now } = input;
  const calendar = calendarFor(sequence.schedule, zone, input.holidays);
  const minute = minutesOf(sequence.schedule.send_at);
  const firstDate = (plan[0]?.local ?? '').slice(0, 10);
  const dayBefore = at(
    { date: previousWorkingDate(addDays(firstDate, -1), calendar), minute },
    zone,
  );
  let moment = dayBefore;
  if (now !== undefined) {
    const today = slotOf(now, zone).date;
    const working = isWorkingDate(today, calendar);
    const morning = at({ date: today, minute }, zone);
    const next =
      working && morning.dueAt >= now
        ? morning
        : at({ date: nextWorkingDate(addDays(today, 1), calendar), minute }, zone);
    if (dayBefore.dueAt >= now) moment = next.dueAt < dayBefore.dueAt ? next : dayBefore;
    // The day before week 1 has had its morning: on enrolment, during a working day.
    else moment = working ? { dueAt: now, local: formatSlot(slotOf(now, zone)) } : next;
  }
  return {
    stepKey: 'welcome',
    kind: 'welcome',
    week: 1,
    sendAt: moment.dueAt,
    startsAt: undefined,
    local: moment.local,
    planned: moment.local,
  };
}

/**
 * When the programme-end email goes out: at the learner's morning on the first working day
 * after the last step (a practice slot's own day counts, not the day its invite was sent).
 * A pause moves it with the rest of the plan.
 */
export function planProgrammeEnd(input: JourneyInput): JourneyDelivery {
  const { sequence, zone, plan } = input;
  const calendar = calendarFor(sequence.schedule, zone, input.holidays);
  const lastDate = plan
    .map((row) => parseSlot(row.local)?.date ?? row.local.slice(0, 10))
    .sort()
    .at(-1)!;
  const slot = {
    date: nextWorkingDate(addDays(lastDate, 1), calendar),
    minute: minutesOf(sequence.schedule.send_at),
  };
  const moment = at(slot, zone);
  return {
    stepKey: 'programme-end',
    kind: 'programme_end',
    week: Math.max(...plan.map((row) => row.week)),
    sendAt: moment.dueAt,
    startsAt: undefined,
    local: moment.local,
    planned: formatSlot(slot),
  };
}

/** `date` if it is a working date, else the one before it. */
function previousWorkingDate(date: string, calendar: LearnerCalendar): string {
  const bound = 7 * (calendar.holidays.size + 2);
  let day = date;
  for (let step = 0; step < bound && !isWorkingDate(day, calendar); step += 1)
    day = addDays(day, -1);
  return day;
}
