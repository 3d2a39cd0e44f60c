import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holidaysFromIcs, holidaysFromList } from '../../src/planner/index.js';
import { fixture } from './helpers.js';

const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('holidaysFromList', () => {
  it('reads the England and Wales bank holidays, 2026 to 2028', () => {
    const { holidays, problems } = holidaysFromList(
      fixture('holidays/england-and-wales-2026-2028.txt'),
    );
    expect(problems).toEqual([]);
    expect(holidays.size).toBe(24);
    expect(sorted(holidays).filter((d) => d.startsWith('2027'))).toEqual([
      '2027-01-01',
      '2027-03-26',
      '2027-03-29',
      '2027-05-03',
      '2027-05-31',
      '2027-08-30',
      '2027-12-27',
      '2027-12-28',
    ]);
  });

  it.each([
    { name: 'empty', text: '', holidays: [] },
    { name: 'comments and blank lines', text: '# none\n\n   \n# yet\n', holidays: [] },
    {
      name: 'a comment after the date',
      text: '2027-05-03  # Early May\n',
      holidays: ['2027-05-03'],
    },
    {
      name: 'CRLF and a byte-order mark',
      text: '\uFEFF2027-05-03\r\n2027-05-31\r\n',
      holidays: ['2027-05-03', '2027-05-31'],
    },
    { name: 'spaces around', text: '  2027-05-03\t\n', holidays: ['2027-05-03'] },
    { name: 'the same day twice', text: '2027-05-03\n2027-05-03\n', holidays: ['2027-05-03'] },
  ])('$name', ({ text, holidays }) => {
    const result = holidaysFromList(text);
    expect(result.problems).toEqual([]);
    expect(sorted(result.holidays)).toEqual(holidays);
  });

  it('reports every bad line by number and keeps the good ones', () => {
    const result = holidaysFromList(
      [
        '# Holidays',
        '2027-05-03',
        '2027-5-31',
        '2027-02-30',
        '03/05/2027',
        '2027-08-30 Summer bank holiday',
        'Christmas',
        '2027-12-27 # Christmas Day (substitute)',
      ].join('\n'),
    );
    expect(sorted(result.holidays)).toEqual(['2027-05-03', '2027-12-27']);
    expect(result.problems).toMatchInlineSnapshot(`
      [
        {
          "line": 3,
          "message": ""2027-5-31" is not a date (expected YYYY-MM-DD, such as 2027-05-03)",
        },
        {
          "line": 4,
          "message": ""2027-02-30" is not a date (expected YYYY-MM-DD, such as 2027-05-03)",
        },
        {
          "line": 5,
          "message": ""03/05/2027" is not a date (expected YYYY-MM-DD, such as 2027-05-03)",
        },
        {
          "line": 6,
          "message": ""2027-08-30 Summer bank holiday" has more than a date; put a name after a #, such as "2027-08-30  # Summer bank holiday"",
        },
        {
          "line": 7,
          "message": ""Christmas" is not a date (expected YYYY-MM-DD, such as 2027-05-03)",
        },
      ]
    `);
  });

  it('never throws, and every line is either a holiday, a problem or nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('2027-05-03', '# x', ''))),
        (lines) => {
          const result = holidaysFromList(lines.join('\n'));
          const problemLines = result.problems.map((p) => p.line);
          expect(new Set(problemLines).size).toBe(problemLines.length);
          for (const day of result.holidays) expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        },
      ),
    );
  });
});

describe('holidaysFromIcs', () => {
  it('reads the gov.uk bank holidays calendar (all-day events, CRLF), the same as the list', () => {
    const ics = holidaysFromIcs(fixture('holidays/england-and-wales-2026-2028.ics'));
    const list = holidaysFromList(fixture('holidays/england-and-wales-2026-2028.txt'));
    expect(ics.problems).toEqual([]);
    expect(sorted(ics.holidays)).toEqual(sorted(list.holidays));
  });

  it('expands multi-day and yearly events, leaves out what is not a whole-day holiday, and says why', () => {
    const { holidays, problems } = holidaysFromIcs(fixture('holidays/closures.ics'), {
      through: '2030-12-31',
    });
    expect(sorted(holidays)).toEqual([
      // Founders' day, yearly on 12 June until 2029...
      '2026-06-12',
      // Christmas shutdown: DTSTART 24 Dec, DTEND 2 Jan (exclusive).
      '2026-12-24',
      '2026-12-25',
      '2026-12-26',
      '2026-12-27',
      '2026-12-28',
      '2026-12-29',
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      // ...moved off the Saturday in 2027 (RECURRENCE-ID)...
      '2027-06-14',
      // A one-day event with no DTEND.
      '2027-09-17',
      // ...not in 2028 (EXDATE), and UNTIL ends it after 2029.
      '2029-06-12',
    ]);
    expect(problems).toMatchInlineSnapshot(`
      [
        {
          "line": 28,
          "message": "event "All-hands meeting": starts at a time (DTSTART 2027-03-03T10:00:00Z), not on a whole day; only all-day events are holidays, so it was left out",
        },
        {
          "line": 35,
          "message": "event "No-meeting Friday": repeats FREQ=WEEKLY; only yearly repeats are supported, so it was left out (list its days instead)",
        },
      ]
    `);
  });

  it('stops yearly events at `through`', () => {
    const text = fixture('holidays/closures.ics');
    expect(sorted(holidaysFromIcs(text, { through: '2026-12-31' }).holidays)).toContain(
      '2026-06-12',
    );
    expect(sorted(holidaysFromIcs(text, { through: '2026-12-31' }).holidays)).not.toContain(
      '2029-06-12',
    );
  });

  it.each([
    { name: 'not iCalendar at all', text: 'Christmas Day, 25 December' },
    { name: 'a vCard', text: 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Priya\r\nEND:VCARD\r\n' },
    { name: 'empty', text: '' },
  ])('reports a file that is not a calendar: $name', ({ text }) => {
    const result = holidaysFromIcs(text);
    expect(result.holidays.size).toBe(0);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(/^not an iCalendar file/);
  });

  it('reports a date that is not one, rather than rolling it over', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'UID:x',
      'SUMMARY:Broken',
      'DTSTART;VALUE=DATE:20270230',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:y',
      'DTSTART;VALUE=DATE:20270301',
      'DTEND;VALUE=DATE:2027031',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    expect(holidaysFromIcs(text)).toMatchInlineSnapshot(`
      {
        "holidays": Set {},
        "problems": [
          {
            "line": 2,
            "message": "event "Broken": DTSTART "2027-02-30" is not a date; left out",
          },
          {
            "line": 7,
            "message": "event y: DTEND "2027-03-1" is not a date; left out",
          },
        ],
      }
    `);
  });

  it('never throws on mangled calendars', () => {
    const good = fixture('holidays/closures.ics');
    fc.assert(
      fc.property(fc.nat(good.length), fc.nat(good.length), fc.string(), (from, to, junk) => {
        const mangled = good.slice(0, Math.min(from, to)) + junk + good.slice(Math.max(from, to));
        const result = holidaysFromIcs(mangled, { through: '2030-12-31' });
        for (const day of result.holidays) expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }),
    );
  });
});
