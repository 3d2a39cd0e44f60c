import { DateTime } from 'luxon';
import { dayNames, type DayName } from '../sequence/schema.js';

/**
 * When a step of a programme falls for one learner, before working days, holidays and pauses
 * are applied: week `week` counted from the Monday of `startsOn`, on `day`, at `at`, in the
 * learner's IANA zone. DST is the zone library's business, never ours: 09:00 stays 09:00
 * local across the change of clocks.
 *
 * @example stepStart('2027-01-04', 2, 'wed', '14:00', 'Europe/London').toISO()
 *   // '2027-01-13T14:00:00.000+00:00'
 */
export function stepStart(
  startsOn: string,
  week: number,
  day: DayName,
  at: string,
  zone: string,
): DateTime {
  const [hour, minute] = at.split(':').map(Number) as [number, number];
  const firstMonday = DateTime.fromISO(startsOn, { zone }).startOf('week');
  return firstMonday
    .plus({ weeks: week - 1, days: dayNames.indexOf(day) })
    .set({ hour, minute, second: 0, millisecond: 0 });
}

/** The Monday on or after `now` in `zone`, as YYYY-MM-DD: the start of a sample enrolment. */
export function nextMonday(now: Date, zone: string): string {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const monday = today.weekday === 1 ? today : today.startOf('week').plus({ weeks: 1 });
  return monday.toISODate()!;
}

/** "30m", "1h30m", "2d" as minutes. The sequence schema has already checked the shape. */
export function durationMinutes(duration: string): number {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(duration);
  const [, days = '0', hours = '0', minutes = '0'] = match ?? [];
  return Number(days) * 1440 + Number(hours) * 60 + Number(minutes);
}
