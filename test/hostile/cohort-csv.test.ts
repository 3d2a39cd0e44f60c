import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { readCohortCsv, type CohortFile } from '../../src/enrol/cohort-csv.js';
import { runGym } from '../helpers/cli.js';
import { cohortHeader, cohortRow } from './helpers.js';

/**
 * Malformed cohort files: every problem has the line it is on, the bad rows are never among
 * the rows, and `gym enrol` imports nothing from a file with any problem.
 */

const now = { now: new Date('2026-12-01T12:00:00Z') };
const row = (email: string) => cohortRow(email, 'Ana', 'Lopez');
const read = (text: string): CohortFile => {
  const result = readCohortCsv(text, 'c.csv', now);
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/).length;
  for (const problem of result.problems) {
    expect(problem.file).toBe('c.csv');
    expect(problem.line).toBeGreaterThanOrEqual(1);
    expect(problem.line).toBeLessThanOrEqual(lines);
    expect(problem.message).not.toBe('');
  }
  return result;
};
const lines = (file: CohortFile) => file.problems.map((p) => p.line);

describe('malformed cohort files', () => {
  it('a quote that never closes: reported where it opens, with its column; later rows lost', () => {
    const text = [
      cohortHeader,
      row('a@example.gov.uk'),
      row('b@example.gov.uk'),
      'c@example.gov.uk,"Cara,Hughes,Europe/London',
      row('d@example.gov.uk').replace(/"/g, ''),
      '',
    ].join('\n');
    const file = read(text);
    expect(file.problems).toEqual([
      expect.objectContaining({
        line: 4,
        column: 18,
        message: expect.stringMatching(
          /a quote \("\) opens a value here and is never closed, so lines 4 to \d could not be read/,
        ) as string,
      }),
    ]);
    expect(file.rows.map((r) => r.email)).toEqual(['a@example.gov.uk', 'b@example.gov.uk']);
  });

  it('a quote that closes on a later row: the row that swallowed it is refused, by its line', () => {
    const text = [
      cohortHeader,
      row('a@example.gov.uk'),
      'b@example.gov.uk,"Ben,Cole,Europe/London,press-officer,Home Office,sam.patel@example.gov.uk,Sam Patel,2027-01-04',
      row('c@example.gov.uk'),
      '',
    ].join('\n');
    const file = read(text);
    expect(lines(file)).toContain(3);
    expect(file.rows.map((r) => r.email)).toEqual(['a@example.gov.uk']);
  });

  it('rows with too few and too many values, each by its line', () => {
    const text = [
      cohortHeader,
      row('a@example.gov.uk'),
      'b@example.gov.uk,Ben',
      `${row('c@example.gov.uk')},extra,more`,
      ',,,',
      row('d@example.gov.uk'),
      '',
    ].join('\n');
    const file = read(text);
    expect(file.problems.map((p) => [p.line, p.message.replace(/ \(.*/, '')])).toEqual([
      [3, 'has 2 values but the header has 9 columns'],
      [4, 'has 11 values but the header has 9 columns'],
    ]);
    expect(file.rows.map((r) => r.line)).toEqual([2, 6]);
  });

  it('a BOM, CRLF and a bad row: the lines are the editor’s lines', () => {
    const text = `\uFEFF${[cohortHeader, row('a@example.gov.uk'), 'b@example.gov.uk,Ben', row('c@example.gov.uk').replace('2027-01-04', '2027-02-30'), ''].join('\r\n')}`;
    const file = read(text);
    expect(lines(file)).toEqual([3, 4]);
    expect(file.rows.map((r) => r.email)).toEqual(['a@example.gov.uk']);
  });

  it('a UTF-16 file read as UTF-8, and binary: problems, no learner', () => {
    const utf16 = Buffer.from(
      `\uFEFF${[cohortHeader, row('a@example.gov.uk')].join('\r\n')}`,
      'utf16le',
    );
    for (const text of [
      utf16.toString('utf8'),
      Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)).toString('utf8'),
      Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)).toString('latin1'),
      '\0'.repeat(1000),
    ]) {
      const file = read(text);
      expect(file.problems.length).toBeGreaterThan(0);
      expect(file.rows).toEqual([]);
    }
  });

  it('NUL and control characters in a name: refused on that line', () => {
    const text = [
      cohortHeader,
      row('a@example.gov.uk'),
      row('b@example.gov.uk').replace('Ana', 'A\0na'),
      row('c@example.gov.uk').replace('Lopez', 'Lo\u001bpez'),
      '',
    ].join('\n');
    const file = read(text);
    expect(lines(file)).toEqual([3, 4]);
    expect(file.problems[0]!.message).toContain('contains a control character');
    expect(file.rows.map((r) => r.email)).toEqual(['a@example.gov.uk']);
  });

  it('a header of 20,000 columns, and 100,000 quotes: problems quickly, no learner', () => {
    for (const text of [
      [`${cohortHeader}${','.repeat(20_000)}`, row('a@example.gov.uk'), ''].join('\n'),
      [cohortHeader, '"'.repeat(100_001), row('a@example.gov.uk'), ''].join('\n'),
    ]) {
      const started = Date.now();
      const file = read(text);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(file.problems.length).toBeGreaterThan(0);
      expect(file.rows).toEqual([]);
    }
  });

  it('fuzz: CSV-shaped hostile text never throws, and every problem is on a line of the file', () => {
    const piece = fc.constantFrom(
      ...[',', ';', '\t', '"', '""', '\n', '\r\n', '\r', '\uFEFF', '\0', '\u2028', ' '],
      ...['a@example.gov.uk', 'Ana', 'Europe/London', 'press-officer', '2027-01-04', '=1+1'],
      ...[cohortHeader, row('x@example.gov.uk'), '{{ x }}', '<b>', '\xff\xfe'],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const file = read(pieces.join(''));
        // A file with a problem is never imported; its good rows are there for a dry run only.
        for (const r of file.rows) expect(r.email).not.toBe('');
      }),
      { numRuns: 300 },
    );
  });
});

describe('gym enrol with a malformed file', () => {
  it('prints each problem with its line, exits 1, and imports nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gym-hostile-enrol-'));
    const file = join(dataDir, 'cohort.csv');
    writeFileSync(
      file,
      `\uFEFF${[cohortHeader, row('a@example.gov.uk'), 'b@example.gov.uk,Ben', row('c@example.gov.uk'), 'd@example.gov.uk,"Dan,Lee', ''].join('\r\n')}`,
    );
    const result = await runGym(['enrol', file], { GYM_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${file}:3 has 2 values but the header has 9 columns`);
    expect(result.stdout).toMatch(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:18 a quote`),
    );
    expect(result.stderr).toMatch(/problems in .*cohort\.csv; nothing was imported\n$/);
    // Nothing was written: no database at all, or one without learners.
    if (existsSync(join(dataDir, 'db'))) {
      const database = await createDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
      try {
        const tables = await database.db.introspection.getTables();
        if (tables.some((t) => t.name === 'learners')) {
          const learners = await database.db.selectFrom('learners').select('id').execute();
          expect(learners).toEqual([]);
        }
      } finally {
        await database.close();
      }
    }
  });
});
