import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohortCsv } from '../../bench/cohort.js';
import { postgresBackend } from '../helpers/backends.js';
import { buildGym, runBuiltGym, type CliResult } from '../helpers/cli.js';
import { describeWithServers } from '../helpers/servers.js';

/**
 * #16, enrol memory: a 100,000-row `gym enrol --dry-run` used 4.8 GB; it must stay under 300 MB.
 * 10,000 learners are enough to show growth with the cohort (about 500 MB when the file was read
 * whole) and take about 30 s of CPU; the first command on a new embedded database used 713 MB
 * whatever the cohort, while PGlite's `initdb` made it. The real CLI runs in a child process,
 * whose peak resident set the kernel reports to the bench's probe as the child exits: compiled,
 * as users run it, since tsx alone holds about 65 MB.
 */
const learners = 10_000;
const limitBytes = 300 * 1024 * 1024;

const probe = fileURLToPath(new URL('../../bench/rss-probe.js', import.meta.url));

function cohortFile(): string {
  const folder = mkdtempSync(join(tmpdir(), 'gym-enrol-memory-'));
  const file = join(folder, 'cohort.csv');
  writeFileSync(file, cohortCsv(learners, '2027-01-04', 'mem').text);
  return file;
}

/** `gym enrol FILE --dry-run`, read as on 1 December 2026, and the child's peak RSS in bytes. */
async function dryRun(file: string, env: Record<string, string>) {
  const result: CliResult = await runBuiltGym(
    ['enrol', file, '--dry-run', '--clock', '2026-12-01T12:00:00Z'],
    { ...env, NODE_OPTIONS: `--import ${probe}` },
  );
  const report = /^BENCH_PROBE (.*)$/m.exec(result.stderr)?.[1];
  if (result.code !== 0 || report === undefined)
    throw new Error(`gym enrol failed (exit ${result.code}):\n${result.stderr.slice(-2000)}`);
  expect(result.stdout).toMatch(
    new RegExp(`${learners} learners: ${learners} would be enrolled, 0 already on a programme`),
  );
  return (JSON.parse(report) as { maxRss: number }).maxRss;
}

// Generous: a safety net against a hang on a busy machine, not a timing assertion.
const timeout = 600_000;

beforeAll(buildGym, timeout);

describe('enrol memory', () => {
  it(
    `keeps a ${learners}-row dry run on a new embedded database under 300 MB`,
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'gym-enrol-memory-'));
      const peak = await dryRun(cohortFile(), { GYM_DATA_DIR: dataDir });
      expect(peak).toBeLessThan(limitBytes);
    },
    timeout,
  );
});

describeWithServers(['postgres'], 'enrol memory on PostgreSQL', () => {
  it(
    `keeps a ${learners}-row dry run under 300 MB`,
    async () => {
      const database = await postgresBackend().open();
      try {
        const peak = await dryRun(cohortFile(), {
          DATABASE_URL: database.url!,
          GYM_SECRET: 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f',
        });
        expect(peak).toBeLessThan(limitBytes);
      } finally {
        await database.close();
      }
    },
    timeout,
  );
});
