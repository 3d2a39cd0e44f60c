import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { formatCohortProblem, readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { dayAndMonth, longDate, slotLabel } from '../../src/language/dates.js';
import { effectivePreference, parsePreference } from '../../src/language/languages.js';

describe('language preferences', () => {
  it('reads what people write in a spreadsheet, in English or Welsh', () => {
    expect(parsePreference('cy')).toBe('cy');
    expect(parsePreference(' Cymraeg ')).toBe('cy');
    expect(parsePreference('English')).toBe('en');
    expect(parsePreference('EN+CY')).toBe('cy+en');
    expect(parsePreference('Dwyieithog')).toBe('cy+en');
    expect(parsePreference('both')).toBe('cy+en');
    expect(parsePreference('fr')).toBeUndefined();
  });

  it('gives what the programme offers of the preference, and says when it falls short', () => {
    expect(effectivePreference('cy+en', ['cy', 'en'], 'p')).toEqual({
      preference: 'cy+en',
      notice: undefined,
    });
    expect(effectivePreference('cy+en', ['en'], 'p')).toEqual({
      preference: 'en',
      notice: 'prefers Welsh and English (cy+en), but p is in English (en) only; gets English (en)',
    });
    expect(effectivePreference('en', ['cy'], 'p').preference).toBe('cy');
  });

  it('is a cohort column, checked by line', () => {
    const csv = [
      'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,iaith,manager_language',
      'a@x.gov.uk,A,A,Europe/London,officer,Org,m@x.gov.uk,M M,2027-01-04,cy,cy+en',
      'b@x.gov.uk,B,B,Europe/London,officer,Org,m@x.gov.uk,M M,2027-01-04,,',
      'c@x.gov.uk,C,C,Europe/London,officer,Org,m@x.gov.uk,M M,2027-01-04,Français,',
    ].join('\n');
    const { rows, problems } = readCohortCsv(csv, 'cohort.csv', {
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect(rows.map((r) => [r.email, r.language, r.manager_language])).toEqual([
      ['a@x.gov.uk', 'cy', 'cy+en'],
      ['b@x.gov.uk', undefined, undefined],
    ]);
    expect(problems.map(formatCohortProblem)).toEqual([
      'cohort.csv:4 language "Français" is not a language we send in (expected cy (Welsh), en (English) or cy+en (both, Welsh first))',
    ]);
  });
});

describe('dates in Welsh', () => {
  const instants = Array.from(
    { length: 14 },
    (_, i) => new Date(Date.UTC(2027, i % 12, 1 + i * 2, 12)),
  );

  it('names every weekday and month in Welsh and English', () => {
    expect(longDate(new Date('2027-01-01T12:00:00Z'), 'Europe/London', 'cy')).toBe(
      'Dydd Gwener 1 Ionawr',
    );
    expect(dayAndMonth(new Date('2027-07-07T12:00:00Z'), 'Europe/London', 'cy')).toBe(
      '7 Gorffennaf',
    );
    expect(slotLabel(new Date('2027-01-20T14:00:00Z'), 'Europe/London', 'cy')).toBe(
      'Mer 20 Ion 2027, 14:00',
    );
    expect(slotLabel(new Date('2027-01-20T14:00:00Z'), 'Europe/London', 'en')).toBe(
      'Wed 20 Jan 2027, 14:00',
    );
  });

  // Our tables exist because a Node without full ICU prints English under `cy`; they must agree
  // with ICU's Welsh (Luxon's `cy` locale), which Node's own builds carry.
  it('agree with Luxon’s cy locale', () => {
    {
      for (const instant of instants) {
        const luxon = DateTime.fromJSDate(instant, { zone: 'Europe/London' }).toFormat(
          'cccc d LLLL',
          { locale: 'cy' },
        );
        expect(longDate(instant, 'Europe/London', 'cy')).toBe(luxon);
        const short = DateTime.fromJSDate(instant, { zone: 'Europe/London' }).toFormat(
          'ccc d LLL yyyy, HH:mm',
          { locale: 'cy' },
        );
        expect(slotLabel(instant, 'Europe/London', 'cy')).toBe(short);
      }
    }
  });
});
