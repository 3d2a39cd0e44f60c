import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

describe('gym enrol', () => {
  it('shows each learner’s programme and why on a dry run, and enrols them for real after', async () => {
    const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-enrol-')) };
    const dry = await runGym(['enrol', 'test/fixtures/cohorts/example.csv', '--dry-run'], env);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toContain(
      '    2  would-enrol priya.sharma@fcdo.gov.uk  →  social-media-for-comms  first step 2027-01-04 09:00\n' +
        '       role press-officer matched; priority 20 beat digital-foundations 0\n',
    );
    expect(dry.stdout).toMatch(
      /8 learners: 8 would be enrolled, 0 already on a programme \(dry run: nothing was written\)\n$/,
    );

    const real = await runGym(['enrol', 'test/fixtures/cohorts/example.csv', '--json'], env);
    expect(real.code).toBe(0);
    const report = JSON.parse(real.stdout) as {
      learners: { action: string; programmeId: string }[];
    };
    expect(report.learners.map((l) => l.programmeId).sort()).toEqual([
      'digital-engagement-for-policy',
      'digital-engagement-for-policy',
      'digital-engagement-for-policy',
      'digital-foundations',
      'digital-foundations',
      'social-media-for-comms',
      'social-media-for-comms',
      'social-media-for-comms',
    ]);
  });

  it('reports every bad row by line and imports nothing, exit 1', async () => {
    const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-enrol-')) };
    const result = await runGym(['enrol', 'test/fixtures/cohorts/bad.csv'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'test/fixtures/cohorts/bad.csv:3 time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)\n',
    );
    expect(result.stderr).toMatch(
      /^gym: \d+ problems in test\/fixtures\/cohorts\/bad\.csv; nothing was imported\n$/,
    );
  });
});
