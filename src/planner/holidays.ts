import ICAL from 'ical.js';
import { addDays, isIsoDate } from './local-time.js';

/** Something wrong in a holiday file; the rest of the file is still read. */
export interface HolidayProblem {
  /** 1-based line of the file, when the problem has one. */
  readonly line?: number;
  readonly message: string;
}

export interface Holidays {
  /** YYYY-MM-DD local dates. */
  readonly holidays: ReadonlySet<string>;
  readonly problems: readonly HolidayProblem[];
}

/**
 * An organisation's holidays from a plain list: one YYYY-MM-DD date a line, `#` starts a
 * comment, blank lines are ignored. Every bad line is reported with its number; the good lines
 * are kept.
 *
 * @example
 * holidaysFromList('# England and Wales\n2027-05-03  # Early May bank holiday\n2027-5-31\n')
 *   // { holidays: Set { '2027-05-03' },
 *   //   problems: [{ line: 3, message: '"2027-5-31" is not a date (expected YYYY-MM-DD, such as 2027-05-03)' }] }
 */
export function holidaysFromList(text: string): Holidays {
  const holidays = new Set<string>();
  const problems: HolidayProblem[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((raw, i) => {
      const value = raw.replace(/#.*$/, '').trim();
      if (value === '') return;
      if (isIsoDate(value)) holidays.add(value);
      else problems.push({ line: i + 1, message: listProblem(value) });
    });
  return { holidays, problems };
}

function listProblem(value: string): string {
  const first = value.split(/\s+/)[0] ?? value;
  if (first !== value && isIsoDate(first))
    return `"${value}" has more than a date; put a name after a #, such as "${first}  # ${value.slice(first.length).trim()}"`;
  return `"${value}" is not a date (expected YYYY-MM-DD, such as 2027-05-03)`;
}

export interface IcsOptions {
  /** Yearly repeating events are expanded up to this date (YYYY-MM-DD); default 2099-12-31. */
  readonly through?: string;
}

/** A holiday that runs longer than this is almost certainly a mistake in the file. */
const longestEventDays = 366;
/** Occurrences of one yearly event read at most: a bound, far beyond any real `through`. */
const mostOccurrences = 500;

/**
 * An organisation's holidays from an iCalendar file (such as gov.uk's bank-holidays .ics): every
 * all-day VEVENT, each day of a multi-day event (DTEND is exclusive), yearly RRULEs expanded
 * (with EXDATE and moved occurrences), cancelled events left out. Timed events and rules that
 * repeat other than yearly are reported, not guessed at; so is a file that is not iCalendar.
 * Never throws.
 *
 * @example
 * holidaysFromIcs(readFileSync('england-and-wales.ics', 'utf8')).holidays.has('2027-05-03') // true
 */
export function holidaysFromIcs(text: string, options: IcsOptions = {}): Holidays {
  const holidays = new Set<string>();
  const problems: HolidayProblem[] = [];
  const through = options.through ?? '2099-12-31';

  let calendars: InstanceType<typeof ICAL.Component>[];
  try {
    const parsed = ICAL.parse(text.replace(/^\uFEFF/, '')) as unknown[];
    const roots = Array.isArray(parsed[0]) ? parsed : [parsed];
    calendars = roots.map((jcal) => new ICAL.Component(jcal as never));
  } catch (error) {
    return {
      holidays,
      problems: [
        { message: `not an iCalendar file: ${(error as Error).message ?? String(error)}` },
      ],
    };
  }
  const notCalendars = calendars.filter((c) => c.name !== 'vcalendar');
  if (calendars.length === 0 || notCalendars.length === calendars.length)
    return { holidays, problems: [{ message: 'not an iCalendar file: no BEGIN:VCALENDAR' }] };

  const lines = veventLines(text);
  const events = calendars.flatMap((c) => c.getAllSubcomponents('vevent'));
  const lineOf = new Map(events.map((event, i) => [event, lines[i]]));
  const exceptions = events.filter((e) => e.hasProperty('recurrence-id'));
  const masters = events.filter((e) => !e.hasProperty('recurrence-id'));
  const masterUids = new Set(masters.map((e) => String(e.getFirstPropertyValue('uid'))));

  // A moved occurrence whose series is not in the file is a holiday of its own.
  const standalone = exceptions.filter(
    (e) => !masterUids.has(String(e.getFirstPropertyValue('uid'))),
  );
  for (const component of [...masters, ...standalone]) {
    const line = lineOf.get(component);
    const report = (message: string) =>
      problems.push({
        ...(line === undefined ? {} : { line }),
        message: `${describe(component)}: ${message}`,
      });
    try {
      readEvent(component, exceptions, through, holidays, report);
    } catch (error) {
      report(`cannot be read (${(error as Error).message ?? String(error)}); left out`);
    }
  }
  return { holidays, problems };
}

function readEvent(
  component: InstanceType<typeof ICAL.Component>,
  exceptions: readonly InstanceType<typeof ICAL.Component>[],
  through: string,
  holidays: Set<string>,
  report: (message: string) => void,
): void {
  const status = component.getFirstPropertyValue('status');
  if (typeof status === 'string' && status.toUpperCase() === 'CANCELLED') return;
  if (!component.hasProperty('dtstart')) return report('has no DTSTART; left out');
  // ical.js rolls 20270230 over to 2 March: check the dates as written.
  for (const name of ['dtstart', 'dtend']) {
    const written: unknown = component.getFirstProperty(name)?.jCal[3];
    if (typeof written === 'string' && !isIsoDate(written.slice(0, 10)))
      return report(`${name.toUpperCase()} "${written}" is not a date; left out`);
  }
  const event = new ICAL.Event(component);
  if (!event.startDate.isDate)
    return report(
      `starts at a time (DTSTART ${event.startDate.toString()}), not on a whole day; only all-day events are holidays, so it was left out`,
    );

  if (!event.isRecurring()) return addSpan(event.startDate, event.endDate, holidays, report);

  const frequencies = component
    .getAllProperties('rrule')
    .map((p) => (p.getFirstValue() as { freq?: string } | null)?.freq ?? '?');
  const other = frequencies.filter((f) => f !== 'YEARLY');
  if (other.length > 0)
    return report(
      `repeats FREQ=${other.join(', ')}; only yearly repeats are supported, so it was left out (list its days instead)`,
    );
  const uid = String(component.getFirstPropertyValue('uid'));
  for (const exception of exceptions)
    if (String(exception.getFirstPropertyValue('uid')) === uid) event.relateException(exception);

  const iterator = event.iterator();
  for (let n = 0; n < mostOccurrences; n += 1) {
    const next = iterator.next();
    if (!next || (dateOf(next) ?? '9999') > through) break;
    // ical.js's own type for this does not resolve; its documented shape:
    const occurrence = event.getOccurrenceDetails(next) as unknown as {
      startDate: InstanceType<typeof ICAL.Time>;
      endDate: InstanceType<typeof ICAL.Time>;
      item: InstanceType<typeof ICAL.Event>;
    };
    const cancelled = occurrence.item.component.getFirstPropertyValue('status');
    if (typeof cancelled === 'string' && cancelled.toUpperCase() === 'CANCELLED') continue;
    addSpan(occurrence.startDate, occurrence.endDate, holidays, report);
  }
}

/** Every day from `start` up to, not including, `end` (at least the first day). */
function addSpan(
  start: InstanceType<typeof ICAL.Time>,
  end: InstanceType<typeof ICAL.Time>,
  holidays: Set<string>,
  report: (message: string) => void,
): void {
  const first = dateOf(start);
  if (first === undefined) return report(`"${start.toString()}" is not a date; left out`);
  const last = dateOf(end) ?? first;
  let day = first;
  for (let n = 0; n < longestEventDays && (n === 0 || day < last); n += 1) {
    holidays.add(day);
    day = addDays(day, 1);
  }
  if (day < last)
    report(
      `runs from ${first} to ${last}, longer than ${longestEventDays} days; only the first ${longestEventDays} were kept`,
    );
}

function dateOf(time: InstanceType<typeof ICAL.Time>): string | undefined {
  const text = [time.year, time.month, time.day]
    .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
    .join('-');
  return isIsoDate(text) ? text : undefined;
}

function describe(component: InstanceType<typeof ICAL.Component>): string {
  const summary = component.getFirstPropertyValue('summary');
  const uid = component.getFirstPropertyValue('uid');
  if (typeof summary === 'string' && summary !== '') return `event "${summary}"`;
  if (typeof uid === 'string' && uid !== '') return `event ${uid}`;
  return 'an event';
}

/** The line of each BEGIN:VEVENT, in order: ical.js keeps the file's order but not its lines. */
function veventLines(text: string): number[] {
  const lines: number[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (/^BEGIN:VEVENT\s*$/i.test(line)) lines.push(i + 1);
  });
  return lines;
}
