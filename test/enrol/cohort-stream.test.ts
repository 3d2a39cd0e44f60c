import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  readCohortCsv,
  readCohortStream,
  type CohortFile,
  type CohortRow,
} from '../../src/enrol/cohort-csv.js';
import { cohortHeader, cohortRow } from '../hostile/helpers.js';
import { fixture, now } from './helpers.js';

/** The text in pieces of `sizes` (cycled), as a file stream hands it over. */
async function* inPieces(text: string, sizes: readonly number[]): AsyncGenerator<string> {
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield text.slice(at, at + size);
    at += size;
  }
}

async function streamed(text: string, sizes: readonly number[]): Promise<CohortFile> {
  const rows: CohortRow[] = [];
  const { problems, rows: count } = await readCohortStream(inPieces(text, sizes), 'c.csv', {
    now,
    onRow: (row) => rows.push(row),
  });
  expect(count).toBe(rows.length);
  return { rows, problems };
}

/**
 * `gym enrol` streams the file (readCohortStream) so that memory stays bounded; every other
 * reader takes the text whole (readCohortCsv), whose behaviour the cohort suites pin. Both must
 * say the same of every file, however the stream cuts it.
 */
describe('a cohort file read as a stream', () => {
  it.each(['example.csv', 'bad.csv', 'zones.csv'])(
    'finds the same rows and problems as the whole-text reader in %s',
    async (name) => {
      const text = fixture(name);
      const whole = readCohortCsv(text, 'c.csv', { now });
      for (const sizes of [[1], [7], [3, 50, 1], [65_536]])
        expect(await streamed(text, sizes), `pieces of ${sizes.join(',')}`).toEqual(whole);
    },
  );

  it('property: the same as the whole-text reader for CSV-shaped text cut anywhere', async () => {
    const row = (email: string) => cohortRow(email, 'Ana', 'Lopez');
    const piece = fc.constantFrom(
      ...[',', ';', '\t', '"', '""', '\n', '\r\n', '\r', '\uFEFF', ' ', '\n\n'],
      ...['a@example.gov.uk', 'Ana', 'Europe/London', 'press-officer', '2027-01-04'],
      ...[
        cohortHeader,
        row('x@example.gov.uk'),
        row('y@example.gov.uk'),
        `\n${row('z@example.gov.uk')}`,
      ],
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (pieces, sizes) => {
          const text = pieces.join('');
          expect(await streamed(text, sizes)).toEqual(readCohortCsv(text, 'c.csv', { now }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
