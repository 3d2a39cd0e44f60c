import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { cohortEncoding } from '../../src/enrol/encoding.js';
import { runGym } from '../helpers/cli.js';

/**
 * Cohort files as Excel on Windows writes them, byte for byte (test/fixtures/cohorts/excel-*):
 * "CSV (Comma delimited)" in Windows-1252, "CSV UTF-8" with a byte-order mark, and "Unicode
 * Text" in UTF-16 LE with tabs. Names with accents and a curly apostrophe (0x92 in
 * Windows-1252) are stored as written, or the file is refused: never stored mangled.
 */
const fixtures = 'test/fixtures/cohorts';
const expected = [
  { first_name: 'Renée', last_name: 'Dubois' },
  { first_name: 'Siân', last_name: 'Price' },
  { first_name: 'Zoë', last_name: 'Hughes' },
];

/** The names stored in a data directory's embedded database. */
async function storedNames(dataDir: string) {
  const database = await createDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
  try {
    const learners = await database.db
      .selectFrom('learners')
      .select(['first_name', 'last_name'])
      .orderBy('first_name')
      .execute();
    const managers = await database.db.selectFrom('managers').select('name').execute();
    return { learners, managers: managers.map((m) => m.name) };
  } finally {
    await database.close();
  }
}

describe('gym enrol and the encoding of the cohort file', () => {
  it('refuses a Windows-1252 file with one line showing how it would read and how to save it as UTF-8; stores nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gym-encoding-'));
    const file = `${fixtures}/excel-windows-1252.csv`;
    const result = await runGym(['enrol', file], { GYM_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `gym: ${file}:2 is not UTF-8: it looks like Windows-1252, what Excel on Windows saves as "CSV (Comma delimited)", where this line would read "sian.price@example.gov.uk,Siân,Price,Europe/London,press-officer,Cardiff Council,sean.oneill@example.gov.uk,Seán O’Neill,2027-01-04". Nothing was imported. In Excel, save it again as "CSV UTF-8 (Comma delimited)"; or, if that line reads right, run again with --encoding windows-1252\n`,
    );
    expect(result.stdout).toBe('');
  });

  it('stores the names as written with --encoding windows-1252', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gym-encoding-'));
    // The dry run prints its JSON a learner at a time: still one object, on one line.
    const dry = await runGym(
      [
        'enrol',
        `${fixtures}/excel-windows-1252.csv`,
        '--encoding',
        'cp1252',
        '--dry-run',
        '--json',
      ],
      { GYM_DATA_DIR: dataDir },
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.split('\n')).toHaveLength(2);
    const preview = JSON.parse(dry.stdout) as { dryRun: boolean; learners: { action: string }[] };
    expect(preview.dryRun).toBe(true);
    expect(preview.learners.map((l) => l.action)).toEqual([
      'would-enrol',
      'would-enrol',
      'would-enrol',
    ]);
    const result = await runGym(
      ['enrol', `${fixtures}/excel-windows-1252.csv`, '--encoding', 'windows-1252'],
      { GYM_DATA_DIR: dataDir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('as windows-1252');
    expect(await storedNames(dataDir)).toEqual({ learners: expected, managers: ['Seán O’Neill'] });
  });

  it.each(['excel-utf8-bom.csv', 'excel-unicode-text.txt'])(
    'reads %s (byte-order mark) without being told, names as written',
    async (name) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'gym-encoding-'));
      const result = await runGym(['enrol', `${fixtures}/${name}`], { GYM_DATA_DIR: dataDir });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(await storedNames(dataDir)).toEqual({
        learners: expected,
        managers: ['Seán O’Neill'],
      });
    },
  );

  it('names what a file is when it is neither UTF-8 nor Windows-1252, or UTF-16 without a mark', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-encoding-'));
    const neither = join(dir, 'neither.csv');
    writeFileSync(neither, Buffer.from('email,first_name\na@x.gov.uk,Ana\x81\n', 'latin1'));
    await expect(cohortEncoding(neither, undefined)).rejects.toThrow(
      /neither\.csv:2 is not UTF-8: it looks like neither UTF-8 nor Windows-1252\. Nothing was imported\. .*--encoding$/,
    );
    const utf16 = join(dir, 'utf16.csv');
    writeFileSync(utf16, Buffer.from('email,first_name\r\n', 'utf16le'));
    await expect(cohortEncoding(utf16, undefined)).rejects.toThrow(
      /utf16\.csv:1 is not UTF-8: it looks like UTF-16 without a byte-order mark/,
    );
    await expect(cohortEncoding(neither, 'klingon')).rejects.toThrow(
      /--encoding klingon: not an encoding/,
    );
    expect(await cohortEncoding(neither, 'cp1252')).toBe('windows-1252');
    expect(await cohortEncoding(`${fixtures}/example.csv`, undefined)).toBe('utf-8');
  });
});
