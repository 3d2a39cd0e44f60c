import { DateTime, IANAZone } from 'luxon';
import { dayNames, type DayName } from '../sequence/schema.js';

/**
 * A wall-clock time in the learner's zone: a calendar date and minutes since midnight. The
 * planner reasons in slots (which day, what time on the clock) and turns a slot into an instant
 * only at the end, through luxon, so that a change of clocks is the zone database's business.
 */
export interface LocalSlot {
  /** YYYY-MM-DD */
  readonly date: string;
  /** 0..1439 */
  readonly minute: number;
}

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoSlot = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

/** True for a real calendar date written YYYY-MM-DD (not 2027-02-30). */
export function isIsoDate(text: string): boolean {
  return isoDate.test(text) && dateOfDay(dayOf(text)) === text;
}

// luxon's `IANAZone.isValidZone` builds a new `Intl.DateTimeFormat` on every call, and each one
// leaves about 28 KB of native memory behind (outside the V8 heap, so no heap figure shows it):
// checking every row of a wave took a worker from 41 to 322 MB RSS (#17). The answer for a name
// never changes within a process, so it is asked once per name. Valid names are a finite set
// (the zone database); invalid ones are kept too, up to a bound, so that a file full of typos
// cannot grow the cache without end.
const zoneAnswers = new Map<string, boolean>();
const mostInvalidZonesKept = 1_000;
let invalidZonesKept = 0;

/** True for a zone of the IANA database ("Europe/London", "UTC"), not an offset or a typo. */
export function isValidZone(zone: string): boolean {
  const known = zoneAnswers.get(zone);
  if (known !== undefined) return known;
  const valid = IANAZone.isValidZone(zone);
  if (valid || invalidZonesKept < mostInvalidZonesKept) {
    zoneAnswers.set(zone, valid);
    if (!valid) invalidZonesKept += 1;
  }
  return valid;
}

/** "HH:MM" as minutes since midnight. The sequence schema has already checked the shape. */
export function minutesOf(time: string): number {
  const [hour = 0, minute = 0] = time.split(':').map(Number);
  return hour * 60 + minute;
}

/** Minutes since midnight as "HH:MM". */
export function clockOf(minute: number): string {
  return `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;
}

/**
 * Calendar arithmetic on a date alone: no zone and no clock, so no change of clocks either.
 * Dates are counted as days of the proleptic Gregorian calendar (the Unix day number), which
 * is plain integer arithmetic; every zone question goes to luxon.
 */
export function addDays(date: string, days: number): string {
  return dateOfDay(dayOf(date) + days);
}

export function dayNameOf(date: string): DayName {
  // Day 0, 1970-01-01, was a Thursday.
  return dayNames[(((dayOf(date) + 3) % 7) + 7) % 7]!;
}

/** The Monday of the ISO week (Monday to Sunday) that holds `date`. */
export function mondayOf(date: string): string {
  return addDays(date, -dayNames.indexOf(dayNameOf(date)));
}

export function compareSlots(a: LocalSlot, b: LocalSlot): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.minute - b.minute;
}

/** A slot as the rows show it: "2027-05-04T09:00". */
export function formatSlot(slot: LocalSlot): string {
  return `${slot.date}T${clockOf(slot.minute)}`;
}

/** "2027-05-04T09:00" back to a slot; undefined for anything else. */
export function parseSlot(text: string): LocalSlot | undefined {
  const match = isoSlot.exec(text);
  if (!match || !isIsoDate(match[1]!)) return undefined;
  return { date: match[1]!, minute: Number(match[2]) * 60 + Number(match[3]) };
}

/** The wall-clock slot of an instant in `zone` (seconds dropped). */
export function slotOf(instant: Date, zone: string): LocalSlot {
  const local = DateTime.fromJSDate(instant, { zone });
  return { date: local.toISODate() ?? '', minute: local.hour * 60 + local.minute };
}

/**
 * The instant of a wall-clock slot in `zone`.
 * - When the clocks go back, a time such as 01:30 happens twice: the first is taken.
 * - When they go forward, a time in the gap (01:30 in London on 2027-03-28) does not exist: the
 *   first minute that does, the moment the clocks change (02:00 BST), is taken.
 *
 * @example instantOf({ date: '2027-03-28', minute: 90 }, 'Europe/London').toISO()
 *   // '2027-03-28T02:00:00.000+01:00'
 */
export function instantOf(slot: LocalSlot, zone: string): DateTime {
  const [year, month, day] = slot.date.split('-').map(Number) as [number, number, number];
  const wanted = { year, month, day, hour: Math.floor(slot.minute / 60), minute: slot.minute % 60 };
  const guess = DateTime.fromObject(wanted, { zone });
  const wall = formatSlot(slot);
  // The common case, far from any change of clocks: one answer, luxon's.
  const around = [guess.toMillis() - dayMs, guess.toMillis() + dayMs].map((t) =>
    guess.zone.offset(t),
  );
  if (wallOf(guess) === wall && around[0] === around[1]) return guess;
  const exact = guess.getPossibleOffsets().filter((candidate) => wallOf(candidate) === wall);
  const first = exact.sort((a, b) => a.toMillis() - b.toMillis())[0];
  if (first) return first;
  // In the gap luxon reads the time in the offset before the change, which lands after the
  // change by the size of the gap (01:30 -> 02:30 BST). The change itself lies at most the size
  // of the gap earlier: walk back, a minute at a time, to the first minute of the new offset.
  const gap = Math.abs(guess.offset - guess.minus({ days: 1 }).offset);
  let change = guess;
  for (let step = 0; step < gap; step += 1) {
    const before = change.minus({ minutes: 1 });
    if (before.offset !== guess.offset) break;
    change = before;
  }
  return change;
}

/** The wall-clock text of a DateTime in its own zone: "2027-03-28T02:00". */
export function wallOf(instant: DateTime): string {
  return instant.toFormat("yyyy-MM-dd'T'HH:mm");
}

const dayMs = 86_400_000;

/** YYYY-MM-DD as a day number; out-of-range months and days roll over, as Date.UTC does. */
function dayOf(date: string): number {
  const [year = 0, month = 1, day = 1] = date.split('-').map(Number);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear, unlike Date.UTC, keeps years 0-99
  return Math.floor(utc.getTime() / dayMs);
}

function dateOfDay(day: number): string {
  const utc = new Date(day * dayMs);
  const year = utc.getUTCFullYear();
  return `${String(year).padStart(4, '0')}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
