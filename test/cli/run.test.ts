import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGym, startGym } from '../helpers/cli.js';

describe('gym run on the embedded defaults', () => {
  const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-run-')), GYM_HTTP_PORT: '0' };
  const outbox = () => readdirSync(join(env.GYM_DATA_DIR, 'outbox', 'new'));

  beforeAll(async () => {
    // Enrolled as of 1 December 2026, weeks before the runs below, whatever day the tests run.
    const enrolled = await runGym(
      ['enrol', 'test/fixtures/cohorts/example.csv', '--clock', '2026-12-01T12:00:00Z'],
      env,
    );
    expect(enrolled.code, enrolled.stderr).toBe(0);
  });

  it('--once sends what is due into the Maildir outbox, and nothing twice', async () => {
    const first = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env);
    expect(first.code).toBe(0);
    // Five learners' Monday emails, each with the invite for their Wednesday practice slot, and
    // each of the three managers' one-off introduction followed by their first fortnightly
    // digest (due at 08:00 on their clock). The eight welcomes were due the morning after the
    // enrolment (2 December, weeks before this clock): far past their late grace, they are missed, not
    // sent weeks late.
    expect(first.stderr).toContain('"sent":10');
    expect(first.stderr).toContain('"missed":8');
    expect(first.stderr).toMatch(/"digests":\{"sent":3,.*"introduced":3\}/);
    const files = outbox();
    expect(files).toHaveLength(16);
    const subjects = files.map(
      (f) =>
        /^Subject: (.*)$/m.exec(
          readFileSync(join(env.GYM_DATA_DIR, 'outbox', 'new', f), 'utf8'),
        )![1],
    );
    expect(subjects.filter((s) => s!.startsWith('Week 1: '))).toHaveLength(5);
    expect(subjects.filter((s) => s!.startsWith('Invitation: '))).toHaveLength(5);
    expect(subjects.filter((s) => s!.startsWith('Your team this fortnight'))).toHaveLength(3);
    expect(subjects.filter((s) => s === 'Your team is starting Digital Gym')).toHaveLength(3);

    const again = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:30Z'], env);
    expect(again.stderr).toContain('"sent":0');
    expect(again.stderr).toMatch(/"digests":\{"sent":0,.*"introduced":0\}/);
    expect(outbox()).toHaveLength(16);
  });

  it('keeps sending as time passes, and stops cleanly on SIGTERM', async () => {
    const worker = startGym(['run', '--clock', '2027-01-07T12:00:00Z'], env); // Thursday: the nudges
    await worker.waitForLog(/"msg":"dispatched"/);
    const result = await worker.stop('SIGTERM');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"msg":"stopped"');
    expect(outbox().length).toBeGreaterThan(16);
  });
});
