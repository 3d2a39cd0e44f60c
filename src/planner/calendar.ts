import type { DayName, Sequence } from '../sequence/schema.js';
import { addDays, dayNameOf, minutesOf, type LocalSlot } from './local-time.js';

/** Local hours, both ends included; `from` after `to` (22:00 to 06:00) runs over midnight. */
export interface SendingWindow {
  readonly from: string;
  readonly to: string;
}

/**
 * Where and when one learner may be sent something: their IANA zone, the programme's working
 * days, their organisation's holidays (YYYY-MM-DD, local dates) and the sending window.
 */
export interface LearnerCalendar {
  readonly zone: string;
  /** An empty list is read as every day, so that a bad list can never stall the planner. */
  readonly workingDays: readonly DayName[];
  readonly holidays: ReadonlySet<string>;
  readonly window?: SendingWindow | undefined;
}

/**
 * The calendar of a learner on a programme.
 *
 * @example calendarFor(sequence.schedule, 'Europe/London', holidaysFromList(text).holidays)
 */
export function calendarFor(
  schedule: Sequence['schedule'],
  zone: string,
  holidays: ReadonlySet<string>,
): LearnerCalendar {
  return { zone, workingDays: schedule.working_days, holidays, window: schedule.window };
}

/** A working day of the week that is not a holiday. */
export function isWorkingDate(date: string, calendar: LearnerCalendar): boolean {
  if (calendar.holidays.has(date)) return false;
  return calendar.workingDays.length === 0 || calendar.workingDays.includes(dayNameOf(date));
}

/** `date` if it is a working date, else the next one. */
export function nextWorkingDate(date: string, calendar: LearnerCalendar): string {
  // Every run of seven days holds a working day of the week, so each holiday can hold the search
  // up for at most a week: the bound is never reached, it only proves the loop ends.
  const bound = 7 * (calendar.holidays.size + 2);
  let day = date;
  for (let step = 0; step < bound && !isWorkingDate(day, calendar); step += 1)
    day = addDays(day, 1);
  return day;
}

/** True when `minute` (since midnight) is inside the window, both ends included. */
export function insideWindow(minute: number, window: SendingWindow): boolean {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  return from <= to ? minute >= from && minute <= to : minute >= from || minute <= to;
}

/**
 * Where a step lands on the learner's calendar: outside the sending window it moves to the
 * window's opening (the same day before it opens, the next day after it closes); on a day that
 * is not a working day, or a holiday, it moves to the next working day at the same local time.
 */
export function settleSlot(slot: LocalSlot, calendar: LearnerCalendar): LocalSlot {
  let { date, minute } = slot;
  const window = calendar.window;
  if (window && !insideWindow(minute, window)) {
    const from = minutesOf(window.from);
    if (minute > from) date = addDays(date, 1);
    minute = from;
  }
  return { date: nextWorkingDate(date, calendar), minute };
}
