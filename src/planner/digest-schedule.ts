import { DateTime } from 'luxon';
import { GymError } from '../errors.js';
import type { DayName } from '../sequence/schema.js';
import { nextWorkingDate, type LearnerCalendar } from './calendar.js';
import { addDays, instantOf, isIsoDate, minutesOf } from './local-time.js';
import { checkZone } from './plan.js';

/** One manager digest: the fortnight it covers and the moment it goes out. */
export interface DigestSlot {
  /** YYYY-MM-DD: the anchor plus 14 days per digest before it. */
  readonly periodStartsOn: string;
  /** YYYY-MM-DD: the last day of the fortnight, 13 days after `periodStartsOn`. */
  readonly periodEndsOn: string;
  /** The first working day on or after `periodStartsOn`, at `sendAt` on the manager's clock. */
  readonly sendAt: Date;
  /** The programme weeks the fortnight covers: [1, 2], [3, 4], ...; past the end, the wrap-up. */
  readonly weeks: readonly [number, number];
}

export interface DigestScheduleInput {
  /** YYYY-MM-DD: the Monday that the manager's earliest learner starts (their week 1). */
  readonly anchor: string;
  /** The manager's IANA zone: digests arrive at the start of the manager's working day. */
  readonly zone: string;
  /** The manager's working days; default Monday to Friday. An empty list is read as every day. */
  readonly workingDays?: readonly DayName[] | undefined;
  /** The organisation's days off, YYYY-MM-DD local dates (see holidaysFromList, holidaysFromIcs). */
  readonly holidays?: ReadonlySet<string> | undefined;
  /** 'HH:MM' on the manager's clock; default '08:00', before the learners' 09:00 emails. */
  readonly sendAt?: string | undefined;
  /** The programme's length in weeks; default 12. */
  readonly weeks?: number | undefined;
}

const mondayToFriday: readonly DayName[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const clockPattern = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * The manager digests of a programme: one a fortnight from the anchor, each covering two
 * programme weeks, plus a closing one for the fortnight after the last week (with 12 weeks:
 * weeks [13, 14], the wrap-up), so 7 digests for 12 weeks.
 *
 * A digest goes out on the first working day of its fortnight (a bank holiday Monday moves it
 * to Tuesday), at `sendAt` on the manager's clock: 08:00 stays 08:00 across a change of clocks,
 * and a time the clocks skip moves to the first minute after the skip (see `instantOf`).
 * The sends are strictly increasing as long as every fortnight holds a working day that is not a
 * holiday, which any real calendar does.
 *
 * Pure. Throws a user error (`USAGE`) for an anchor, zone, time or length that is not one.
 *
 * @example
 * digestSchedule({ anchor: '2027-01-04', zone: 'Europe/London' })[1]
 *   // { periodStartsOn: '2027-01-18', periodEndsOn: '2027-01-31',
 *   //   sendAt: 2027-01-18T08:00:00.000Z, weeks: [3, 4] }
 */
export function digestSchedule(input: DigestScheduleInput): DigestSlot[] {
  const { anchor, zone } = input;
  const sendAt = input.sendAt ?? '08:00';
  const weeks = input.weeks ?? 12;
  checkZone(zone);
  if (!isIsoDate(anchor))
    throw new GymError(
      'USAGE',
      `digest anchor "${anchor}" is not a date (expected YYYY-MM-DD, such as 2027-01-04)`,
      { anchor },
    );
  if (!clockPattern.test(sendAt))
    throw new GymError(
      'USAGE',
      `digest time "${sendAt}" is not a time (expected 24-hour HH:MM, such as 08:00)`,
      { sendAt },
    );
  if (!Number.isInteger(weeks) || weeks < 1)
    throw new GymError('USAGE', `programme length ${weeks} is not a whole number of weeks`, {
      weeks,
    });

  // The manager's calendar has no sending window: the digest's time is the manager's choice.
  const calendar: LearnerCalendar = {
    zone,
    workingDays: input.workingDays ?? mondayToFriday,
    holidays: input.holidays ?? new Set(),
  };
  const minute = minutesOf(sendAt);
  // Fortnights that cover the programme (an odd length leaves its last fortnight half past the
  // end), then one more for the wrap-up.
  const count = Math.ceil(weeks / 2) + 1;
  return Array.from({ length: count }, (_, index): DigestSlot => {
    const periodStartsOn = addDays(anchor, 14 * index);
    const sendDate = nextWorkingDate(periodStartsOn, calendar);
    return {
      periodStartsOn,
      periodEndsOn: addDays(periodStartsOn, 13),
      sendAt: instantOf({ date: sendDate, minute }, zone).toJSDate(),
      weeks: [2 * index + 1, 2 * index + 2],
    };
  });
}

/**
 * The digest that is current at `now`: the latest one already sent (sendAt at or before `now`),
 * or undefined before the first. `slots` in the order `digestSchedule` returns them.
 */
export function currentDigest(slots: readonly DigestSlot[], now: Date): DigestSlot | undefined {
  return slots.findLast((slot) => slot.sendAt.getTime() <= now.getTime());
}

/**
 * When a manager's introduction goes: 08:00 on the manager's clock, on the working day before
 * the first digest's day (the engine sends it then, and `gym simulate` shows it).
 */
export function introductionTime(first: Pick<DigestSlot, 'sendAt'>, zone: string): Date {
  let day = DateTime.fromJSDate(first.sendAt, { zone }).startOf('day').minus({ days: 1 });
  while (day.weekday > 5) day = day.minus({ days: 1 });
  return day.set({ hour: 8 }).toJSDate();
}
