import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cohortColumns, readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { fixture, goodRow, header, now, oneRow, problemLines, read } from './helpers.js';

describe('the example cohort (test/fixtures/cohorts/example.csv)', () => {
  const { rows, problems } = read(fixture('example.csv'), 'example.csv');

  it('reads every learner, with no problem', () => {
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(8);
  });

  it('gives each learner a full profile', () => {
    const summary = rows.map((row) =>
      [
        row.line,
        row.email,
        row.time_zone,
        row.role,
        row.manager_email,
        row.start_date,
        row.confidence ?? '-',
        row.barriers.join('+') || '-',
        row.goals.join('+') || '-',
        row.share_with_manager ? 'shares' : 'private',
        JSON.stringify(row.fields),
      ].join(' '),
    );
    expect(summary).toMatchInlineSnapshot(`
      [
        "2 priya.sharma@fcdo.gov.uk Asia/Kolkata press-officer helen.walsh@fcdo.gov.uk 2027-01-04 2 locked-down-it+no-time respond-faster+build-audience shares {"grade":"SEO"}",
        "3 tom.fletcher@fcdo.gov.uk America/New_York communications-officer helen.walsh@fcdo.gov.uk 2027-01-04 4 fear-of-mistakes short-video private {"grade":"HEO"}",
        "4 siobhan.obrien@fcdo.gov.uk Europe/Dublin comms-officer helen.walsh@fcdo.gov.uk 2027-01-04 3 no-time plan-content shares {"grade":"HEO"}",
        "5 aisha.khan@businessandtrade.gov.uk Europe/London policy-officer rachel.green@businessandtrade.gov.uk 2027-01-04 3 impartiality-worries hear-from-businesses shares {"grade":"SEO"}",
        "6 daniel.evans@businessandtrade.gov.uk Europe/London analyst rachel.green@businessandtrade.gov.uk 2027-01-04 4 - use-online-evidence private {"grade":"G7"}",
        "7 james.okafor@businessandtrade.gov.uk Australia/Sydney policy-advisor rachel.green@businessandtrade.gov.uk 2027-01-11 2 locked-down-it+impartiality-worries run-online-consultation shares {"grade":"SEO"}",
        "8 gareth.jones@cardiff.gov.uk Europe/London library-assistant mark.davies@cardiff.gov.uk 2027-01-04 1 no-time+fear-of-mistakes promote-events shares {}",
        "9 fiona.campbell@cardiff.gov.uk Europe/London housing-officer mark.davies@cardiff.gov.uk 2027-01-11 - locked-down-it - private {}",
      ]
    `);
  });

  it('keeps a quoted organisation with a comma, and names with accents and apostrophes', () => {
    const siobhan = rows.find((row) => row.email === 'siobhan.obrien@fcdo.gov.uk')!;
    expect(siobhan).toMatchObject({
      first_name: 'Siobhán',
      last_name: "O'Brien",
      organisation: 'Foreign, Commonwealth & Development Office',
      cohort: 'jan-2027',
    });
  });

  it('leaves out optional fields that were not given', () => {
    const fiona = rows.find((row) => row.email === 'fiona.campbell@cardiff.gov.uk')!;
    expect(Object.hasOwn(fiona, 'confidence')).toBe(false);
    expect(fiona.goals).toEqual([]);
    expect(fiona.fields).toEqual({});
  });
});

describe('a cohort file with many mistakes (test/fixtures/cohorts/bad.csv)', () => {
  it('reports every bad row by its line, with what to change', () => {
    expect(problemLines(fixture('bad.csv'), 'bad.csv')).toMatchInlineSnapshot(`
      "bad.csv:3 time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)
      bad.csv:4 email "carol.hughes@example" is not an email address (expected name@organisation.gov.uk)
      bad.csv:5 start_date "04/01/2027" is not a date in the form YYYY-MM-DD (if that is 4 January 2027, write 2027-01-04)
      bad.csv:6 start_date "2027-02-30" is not a real date
      bad.csv:7 start_date "2029-01-07" is more than a year after today (2026-12-01); check the year
      bad.csv:8 confidence "7" is not a whole number from 1 to 5
      bad.csv:8 share_with_manager "maybe" is not yes or no (expected yes, no, true, false, 1 or 0)
      bad.csv:9 manager_email is the learner's own address (give their line manager's)
      bad.csv:10 learner ana.lopez@example.gov.uk is already on line 2 (one row per learner)
      bad.csv:11 first_name "Chris\\ntopher" contains a line break (a name must be on one line)
      bad.csv:13 role "Comms & Digital" can only have letters, digits, spaces and dashes (write it like press-officer)
      bad.csv:14 barriers item "no time!" can only have letters, digits, spaces and dashes (write the list like locked-down-it; no-time)
      bad.csv:15 time_zone "BST" is an abbreviation, not an IANA time zone (did you mean Europe/London?)
      bad.csv:16 has 14 values but the header has 13 columns (a value with a comma in it needs double quotes around it)
      bad.csv:17 last_name is empty (required for every learner)
      bad.csv:18 manager_name "Samuel Patel" differs from "Sam Patel" on line 2 for manager sam.patel@example.gov.uk (use one spelling)
      bad.csv:20 time_zone "London" is not an IANA time zone (did you mean Europe/London?)
      bad.csv:23:56 a quote (") opens a value here and is never closed, so lines 23 to 24 could not be read (close the quote, or write a quote inside a value as "")"
    `);
  });

  it('returns only the rows that are fine, for a dry run; markup in names is data', () => {
    const { rows } = read(fixture('bad.csv'), 'bad.csv');
    expect(rows.map((row) => [row.line, row.first_name, row.last_name])).toEqual([
      [2, 'Ana', 'Lopez'],
      [19, '<script>alert(1)</script>', '{{ learner.email }}'],
    ]);
  });
});

describe('one value at a time', () => {
  // Values that are accepted, and what they become.
  it.each([
    { column: 'email', value: ' Ana.Lopez@Example.GOV.UK ', becomes: 'ana.lopez@example.gov.uk' },
    {
      column: 'manager_email',
      value: 'SAM.PATEL@example.gov.uk',
      becomes: 'sam.patel@example.gov.uk',
    },
    { column: 'first_name', value: '  Ana María ', becomes: 'Ana María' },
    { column: 'last_name', value: "D'Souza-Smith", becomes: "D'Souza-Smith" },
    { column: 'first_name', value: '{{ manager.name }}', becomes: '{{ manager.name }}' },
    { column: 'time_zone', value: 'europe/london', becomes: 'Europe/London' },
    { column: 'time_zone', value: 'Asia/Kolkata', becomes: 'Asia/Kolkata' },
    { column: 'time_zone', value: 'Asia/Calcutta', becomes: 'Asia/Calcutta' },
    {
      column: 'time_zone',
      value: 'America/Argentina/Buenos_Aires',
      becomes: 'America/Argentina/Buenos_Aires',
    },
    { column: 'time_zone', value: 'utc', becomes: 'UTC' },
    { column: 'role', value: 'Press Officer', becomes: 'press-officer' },
    { column: 'role', value: ' policy_advisor ', becomes: 'policy-advisor' },
    { column: 'start_date', value: '2026-01-05', becomes: '2026-01-05' },
    { column: 'start_date', value: '2027-11-30', becomes: '2027-11-30' },
    { column: 'cohort', value: '', becomes: undefined },
    { column: 'confidence', value: ' 5 ', becomes: 5 },
    { column: 'confidence', value: '', becomes: undefined },
    {
      column: 'barriers',
      value: 'Locked-down IT; no time;; no-time',
      becomes: ['locked-down-it', 'no-time'],
    },
    {
      column: 'barriers',
      value: 'locked-down-it, no-time',
      becomes: ['locked-down-it', 'no-time'],
    },
    { column: 'goals', value: '  ', becomes: [] },
    { column: 'share_with_manager', value: 'Y', becomes: true },
    { column: 'share_with_manager', value: 'TRUE', becomes: true },
    { column: 'share_with_manager', value: '0', becomes: false },
    { column: 'share_with_manager', value: '', becomes: false },
  ])('$column $value is read as $becomes', ({ column, value, becomes }) => {
    const { rows, problems } = read(oneRow({ [column]: value }));
    expect(problems).toEqual([]);
    expect((rows[0] as unknown as Record<string, unknown>)[column]).toEqual(becomes);
  });

  // Values that are refused, and the message the trainer sees.
  it.each([
    ['email', '', 'email is empty (required for every learner)'],
    [
      'email',
      'ana.lopez',
      'email "ana.lopez" is not an email address (expected name@organisation.gov.uk)',
    ],
    [
      'email',
      'ana@@example.gov.uk',
      'email "ana@@example.gov.uk" is not an email address (expected name@organisation.gov.uk)',
    ],
    [
      'email',
      'ana lopez@example.gov.uk',
      'email "ana lopez@example.gov.uk" is not an email address (expected name@organisation.gov.uk)',
    ],
    [
      'email',
      'ana..lopez@example.gov.uk',
      'email "ana..lopez@example.gov.uk" is not an email address (expected name@organisation.gov.uk)',
    ],
    [
      'email',
      'Ana Lopez <ana@example.gov.uk>',
      'email "Ana Lopez <ana@example.gov.uk>" is not a bare email address (give only the address, without a name or <>)',
    ],
    [
      'manager_email',
      'sam.patel@example',
      'manager_email "sam.patel@example" is not an email address (expected name@organisation.gov.uk)',
    ],
    [
      'manager_email',
      'Ana.Lopez@example.gov.uk',
      "manager_email is the learner's own address (give their line manager's)",
    ],
    [
      'first_name',
      'Ana\nMaria',
      'first_name "Ana\\nMaria" contains a line break (a name must be on one line)',
    ],
    [
      'manager_name',
      'Sam\rPatel',
      'manager_name "Sam\\nPatel" contains a line break (a name must be on one line)',
    ],
    [
      'organisation',
      'Home\u2028Office',
      'organisation "Home\u2028Office" contains a line break (a name must be on one line)',
    ],
    [
      'last_name',
      'Lo\u0007pez',
      'last_name "Lo\\u0007pez" contains a control character (retype it as plain text)',
    ],
    [
      'time_zone',
      'Europe/Londn',
      'time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)',
    ],
    [
      'time_zone',
      'America/New York',
      'time_zone "America/New York" is not an IANA time zone (did you mean America/New_York?)',
    ],
    [
      'time_zone',
      'Sydney',
      'time_zone "Sydney" is not an IANA time zone (did you mean Australia/Sydney?)',
    ],
    [
      'time_zone',
      'Asia/Kolkta',
      'time_zone "Asia/Kolkta" is not an IANA time zone (did you mean Asia/Kolkata?)',
    ],
    [
      'time_zone',
      'Mars/Olympus',
      'time_zone "Mars/Olympus" is not an IANA time zone (expected Region/City, such as Europe/London)',
    ],
    [
      'time_zone',
      'GMT',
      'time_zone "GMT" is an abbreviation, not an IANA time zone (did you mean Europe/London?)',
    ],
    [
      'time_zone',
      'EST',
      'time_zone "EST" is an abbreviation, not an IANA time zone (did you mean America/New_York?)',
    ],
    [
      'time_zone',
      'IST',
      'time_zone "IST" is an abbreviation, not an IANA time zone (did you mean Europe/Dublin or Asia/Kolkata?)',
    ],
    [
      'time_zone',
      'Japan',
      'time_zone "Japan" is an old alias, not a Region/City time zone (did you mean Asia/Tokyo?)',
    ],
    [
      'role',
      'Comms & Digital',
      'role "Comms & Digital" can only have letters, digits, spaces and dashes (write it like press-officer)',
    ],
    ['role', '', 'role is empty (required for every learner)'],
    [
      'start_date',
      '4 Jan 2027',
      'start_date "4 Jan 2027" is not a date in the form YYYY-MM-DD (such as 2027-01-04)',
    ],
    [
      'start_date',
      '2027-1-4',
      'start_date "2027-1-4" is not a date in the form YYYY-MM-DD (such as 2027-01-04)',
    ],
    [
      'start_date',
      '11/01/2027',
      'start_date "11/01/2027" is not a date in the form YYYY-MM-DD (if that is 11 January 2027, write 2027-01-11)',
    ],
    ['start_date', '31/02/2027', 'start_date "31/02/2027" is not a date in the form YYYY-MM-DD'],
    ['start_date', '2027-02-29', 'start_date "2027-02-29" is not a real date'],
    [
      'start_date',
      '2027-12-02',
      'start_date "2027-12-02" is more than a year after today (2026-12-01); check the year',
    ],
    [
      'start_date',
      '2025-11-30',
      'start_date "2025-11-30" is more than a year before today (2026-12-01); check the year',
    ],
    ['confidence', '3.5', 'confidence "3.5" is not a whole number from 1 to 5'],
    ['confidence', '0', 'confidence "0" is not a whole number from 1 to 5'],
    ['confidence', 'high', 'confidence "high" is not a whole number from 1 to 5'],
    [
      'barriers',
      'no-time; IT/locked',
      'barriers item "IT/locked" can only have letters, digits, spaces and dashes (write the list like locked-down-it; no-time)',
    ],
    [
      'goals',
      'a&b; c!',
      'goals items "a&b" and "c!" can only have letters, digits, spaces and dashes (write the list like locked-down-it; no-time)',
    ],
    [
      'share_with_manager',
      'maybe',
      'share_with_manager "maybe" is not yes or no (expected yes, no, true, false, 1 or 0)',
    ],
  ])('%s %j is refused', (column, value, message) => {
    const { rows, problems } = read(oneRow({ [column]: value }));
    expect(problems.map((p) => `${p.line} ${p.message}`)).toEqual([`2 ${message}`]);
    expect(rows).toEqual([]);
  });
});

describe('the shape of the file', () => {
  const good = oneRow({});
  const expected = read(good).rows;

  it.each([
    ['a byte-order mark', `\uFEFF${good}`],
    ['Windows line endings', good.replaceAll('\n', '\r\n')],
    ['old Mac line endings', good.replaceAll('\n', '\r')],
    ['no newline at the end', good.trimEnd()],
    ['blank lines and empty spreadsheet rows after the data', `${good}\n,,,,,,,,,,,,,\n, ,\t,\n\n`],
    [
      'header names in other spellings',
      good.replace(
        header,
        header
          .replace('first_name', 'First Name')
          .replace('time_zone', 'TimeZone')
          .replace('start_date', 'Start-Date')
          .replace('email', ' EMAIL '),
      ),
    ],
    [
      'the names HR exports use',
      good.replace(
        header,
        header
          .replace('email', 'Email Address')
          .replace('first_name', 'Forename')
          .replace('last_name', 'Surname')
          .replace('organisation', 'Organization')
          .replace('manager_email', 'Line Manager Email'),
      ),
    ],
    ['Excel’s semicolon-separated CSV', good.replaceAll(',', ';')],
  ])('reads the same with %s', (_, text) => {
    expect(read(text)).toEqual({ rows: expected, problems: [] });
  });

  it('reads semicolon-separated files with quoted lists', () => {
    const text = `email;first_name;last_name;time_zone;role;organisation;manager_email;manager_name;start_date;barriers\nana@example.gov.uk;Ana;Lopez;Europe/London;analyst;"Home Office; Borders";sam@example.gov.uk;Sam;2027-01-04;"no-time; locked-down-it"\n`;
    const { rows, problems } = read(text);
    expect(problems).toEqual([]);
    expect(rows[0]).toMatchObject({
      organisation: 'Home Office; Borders',
      barriers: ['no-time', 'locked-down-it'],
    });
  });

  it('keeps other columns as free fields, named in snake_case', () => {
    const text = `${header},Pay Band,Line-Of Business,empty one\n${oneRow({}).split('\n')[1]},HEO, Borders ,\n`;
    expect(read(text).rows[0]!.fields).toEqual({ pay_band: 'HEO', line_of_business: 'Borders' });
  });

  it('counts physical lines: a quoted value over several lines moves the later rows down', () => {
    const text = `${header},notes\n${oneRow({}).split('\n')[1]},"line one\nline two\n\nline four"\n\n${
      oneRow({ email: 'ben@example.gov.uk', time_zone: 'Europe/Londn' }).split('\n')[1]
    },\n`;
    expect(problemLines(text)).toMatchInlineSnapshot(
      `"cohort.csv:7 time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)"`,
    );
    const { rows } = read(text);
    expect(rows.map((row) => row.line)).toEqual([2]); // where the row starts, not where it ends
    expect(rows[0]!.fields.notes).toBe('line one\nline two\n\nline four');
  });

  it('reports missing required columns once, against the header, and still checks the rows', () => {
    const columns = header.split(',').filter((c) => c !== 'manager_email' && c !== 'start_date');
    const rows = ['a@example.gov.uk', 'b@example.gov.uk', 'nope'].map((email) =>
      columns.map((c) => (c === 'email' ? email : (goodRow[c] ?? ''))).join(','),
    );
    const text = `${columns.join(',')}\n${rows.join('\n')}\n`;
    // No row is a whole profile without the required columns: none is returned, even for a dry run.
    expect(read(text).rows).toEqual([]);
    expect(problemLines(text)).toMatchInlineSnapshot(`
      "cohort.csv:1 missing columns manager_email and start_date (every cohort file needs email, first_name, last_name, time_zone, role, organisation, manager_email, manager_name and start_date)
      cohort.csv:4 email "nope" is not an email address (expected name@organisation.gov.uk)"
    `);
  });

  it('suggests the misspelt column when a required one is missing', () => {
    const text = oneRow({}).replace('manager_email', 'Manager Emial');
    expect(problemLines(text)).toMatchInlineSnapshot(
      `"cohort.csv:1 missing column manager_email (is the column "Manager Emial" it? rename it manager_email)"`,
    );
  });

  it('reports a column named twice, and values in a column with no name', () => {
    const text = `${header},Email,\n${oneRow({}).split('\n')[1]},other@example.gov.uk,stray\n`;
    expect(problemLines(text)).toMatchInlineSnapshot(`
      "cohort.csv:1 column email appears twice in the header (columns 1 and 15); keep one
      cohort.csv:2 value "stray" is in column 16, which has no name in the header line"
    `);
  });

  it('reports rows with the wrong number of values, and ignores empty values past the header', () => {
    const row = oneRow({}).split('\n')[1]!;
    const text = [
      header,
      row,
      row.replace('ana.lopez', 'ben'),
      row.replace('ana.lopez', 'cy').replace('Home Office', 'Home, Office'),
      row.replace('ana.lopez', 'di').split(',').slice(0, 10).join(','),
      `${row.replace('ana.lopez', 'ed')},,,`,
    ].join('\n');
    expect(problemLines(text)).toMatchInlineSnapshot(`
      "cohort.csv:4 has 15 values but the header has 14 columns (a value with a comma in it needs double quotes around it)
      cohort.csv:5 has 10 values but the header has 14 columns (every row needs a value, perhaps empty, for every column)"
    `);
  });

  it('reports the same learner twice, by email whatever its case, on the second line', () => {
    const row = oneRow({}).split('\n')[1]!;
    const text = [
      header,
      row,
      row.replace('ana.lopez', 'ben'),
      row.replace('ana.lopez', 'ANA.Lopez'),
    ].join('\n');
    expect(problemLines(text)).toMatchInlineSnapshot(
      `"cohort.csv:4 learner ana.lopez@example.gov.uk is already on line 2 (one row per learner)"`,
    );
  });

  it('checks across rows even when the rows have other problems', () => {
    const row = oneRow({}).split('\n')[1]!;
    const text = [
      header,
      row.replace('Europe/London', 'Europe/Londn'),
      row.replace('2027-01-04', '2030-01-01').replace('Sam Patel', 'Samuel Patel'),
    ].join('\n');
    expect(problemLines(text)).toMatchInlineSnapshot(`
      "cohort.csv:2 time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)
      cohort.csv:3 start_date "2030-01-01" is more than a year after today (2026-12-01); check the year
      cohort.csv:3 learner ana.lopez@example.gov.uk is already on line 2 (one row per learner)
      cohort.csv:3 manager_name "Samuel Patel" differs from "Sam Patel" on line 2 for manager sam.patel@example.gov.uk (use one spelling)"
    `);
    expect(read(text).rows).toEqual([]);
  });

  it('reports a manager spelt two ways (case and spacing aside)', () => {
    const row = oneRow({}).split('\n')[1]!;
    const text = [
      header,
      row,
      row.replace('ana.lopez', 'ben').replace('Sam Patel', 'sam  patel'),
      row.replace('ana.lopez', 'cy').replace('Sam Patel', 'Samuel Patel'),
    ].join('\n');
    expect(problemLines(text)).toMatchInlineSnapshot(
      `"cohort.csv:4 manager_name "Samuel Patel" differs from "Sam Patel" on line 2 for manager sam.patel@example.gov.uk (use one spelling)"`,
    );
  });

  it.each([
    [
      'an empty file',
      '',
      'cohort.csv:1 the file is empty (expected a header line: email, first_name, last_name, time_zone, role, organisation, manager_email, manager_name, start_date, cohort, confidence, barriers, goals, share_with_manager, language, manager_language, manager_time_zone, organisation_time_zone)',
    ],
    [
      'only blank lines',
      '\n\n  \n',
      'cohort.csv:1 the file is empty (expected a header line: email, first_name, last_name, time_zone, role, organisation, manager_email, manager_name, start_date, cohort, confidence, barriers, goals, share_with_manager, language, manager_language, manager_time_zone, organisation_time_zone)',
    ],
    [
      'a header and no rows',
      `${header}\n`,
      'cohort.csv:1 no learners: the file has a header line but no rows below it',
    ],
    [
      'an unclosed quote in the header',
      `email,"first_name\n`,
      'cohort.csv:1:7 a quote (") opens a value here and is never closed, so line 1 could not be read (close the quote, or write a quote inside a value as "")',
    ],
    [
      'an unclosed quote after good rows',
      `${oneRow({})}"ben@example.gov.uk,Ben\nmore,text\n`,
      'cohort.csv:3:1 a quote (") opens a value here and is never closed, so lines 3 to 4 could not be read (close the quote, or write a quote inside a value as "")',
    ],
    [
      'an unclosed quote mid-line on the last line',
      `${oneRow({})}ben@example.gov.uk,"Ben`,
      'cohort.csv:3:20 a quote (") opens a value here and is never closed, so line 3 could not be read (close the quote, or write a quote inside a value as "")',
    ],
  ])('reports %s as a problem, never a throw', (_, text, expected) => {
    expect(problemLines(text)).toBe(expected);
  });
});

describe('properties', () => {
  /** Pieces that make text look like a cohort file, so the generator reaches the row checks. */
  const piece = fc.constantFrom(
    header,
    Object.values(goodRow).join(','),
    ',',
    ';',
    '"',
    '""',
    '\n',
    '\r\n',
    '\r',
    '\uFEFF',
    ' ',
    'Europe/Londn',
    'x@example.gov.uk',
    '2027-01-04',
    '31/02/2027',
  );
  const texts = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join('')),
  );

  it('never throws, and every problem and row points at a line of the file', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const { rows, problems } = readCohortCsv(text, 'x.csv', { now });
        const lines = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/).length;
        for (const { line } of [...rows, ...problems]) {
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(lines);
        }
        const badLines = new Set(problems.map((p) => p.line));
        for (const row of rows) expect(badLines.has(row.line)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a file with no problems gives one row per learner line', () => {
    const learner = fc.record({
      name: fc.stringMatching(/^[a-z]{1,8}$/),
      zone: fc.constantFrom('Europe/London', 'America/New_York', 'Asia/Kolkata'),
      confidence: fc.constantFrom('', '1', '5'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(learner, { selector: (l) => l.name, maxLength: 10 }),
        (learners) => {
          const lines = learners.map(
            ({ name, zone, confidence }) =>
              oneRow({ email: `${name}@example.gov.uk`, time_zone: zone, confidence }).split(
                '\n',
              )[1],
          );
          const { rows, problems } = read([header, ...lines].join('\n'));
          expect(problems).toEqual(learners.length === 0 ? [expect.anything()] : []);
          expect(rows.map((row) => row.email)).toEqual(
            learners.map((l) => `${l.name}@example.gov.uk`),
          );
        },
      ),
    );
  });

  it('knows every column it documents', () => {
    // The language columns (#15) are tested in test/language/languages.test.ts; the two zones
    // (#14) come last, optional: the manager's, and the organisation's for managers without one.
    expect(Object.keys(cohortColumns)).toEqual([
      ...header.split(','),
      'language',
      'manager_language',
      'manager_time_zone',
      'organisation_time_zone',
    ]);
  });
});
