import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import type { Report } from '../../src/report/compute.js';
import { runGym } from '../helpers/cli.js';

/**
 * `gym report` as a trainer runs it, on the embedded database in GYM_DATA_DIR: empty first, then
 * after `gym enrol`, with week 1 marked sent and one "done" written in between (the dispatcher
 * and the reply listener have suites of their own).
 */

describe('gym report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gym-report-'));
  const env = { GYM_DATA_DIR: dir };

  it('says how to start when there is nobody to report on', async () => {
    const result = await runGym(['report'], env);
    expect(result).toMatchObject({
      code: 0,
      stdout: 'no learners yet: enrol a cohort with gym enrol FILE.csv\n',
    });
  });

  describe('after gym enrol', () => {
    beforeAll(async () => {
      const enrol = await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], env);
      expect(enrol.code).toBe(0);
      // The CLI is not running, so the data directory is free to open here.
      const database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
      try {
        await database.db
          .updateTable('deliveries')
          .set({
            status: 'sent',
            sent_at: sql<Date>`now() - interval '3 days'`,
            message_id: sql<string>`'<' || id || '@gym.example.test>'`,
          })
          .where('step_key', '=', 'w01-kickoff')
          .execute();
        const aisha = await database.db
          .selectFrom('enrolments')
          .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
          .select('enrolments.id')
          .where('learners.email', '=', 'aisha.khan@businessandtrade.gov.uk')
          .executeTakeFirstOrThrow();
        await database.db
          .insertInto('progress_events')
          .values({
            enrolment_id: aisha.id,
            kind: 'done',
            data: JSON.stringify({ week: 1, text: 'Done!' }),
            occurred_at: sql<Date>`now() - interval '2 days'`,
          })
          .execute();
        // A name a spreadsheet would run as a formula, from a cohort file someone else wrote.
        await database.db
          .updateTable('learners')
          .set({ first_name: '=HYPERLINK("http://evil.example")' })
          .where('email', '=', 'gareth.jones@cardiff.gov.uk')
          .execute();
      } finally {
        await database.close();
      }
    });

    it('prints aligned tables that fit in 100 columns', async () => {
      const result = await runGym(['report'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toMatch(/^Digital Gym report: all cohorts, 8 learners, /);
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(100);
      expect(result.stdout).toContain('assignments done 1 of 8 sent; reply rate 13% (1 of 8)');
      expect(result.stdout).toMatch(/Aisha Khan\s+1\s+1\/1\s+\d{4}-\d\d-\d\d\s+active\n/);
      expect(result.stdout).toMatch(/Learners: Digital foundations\n/);
      expect(result.stdout).toMatch(/Rachel Green\s+3\s+1\/3\s+33%\s+0\s+0\s+-\n/);
    });

    it('writes one CSV row per learner, quoted and defused', async () => {
      const result = await runGym(['report', '--cohort', 'jan-2027', '--format', 'csv'], env);
      expect(result.code).toBe(0);
      const rows = result.stdout.split('\r\n');
      expect(rows).toHaveLength(10);
      expect(rows[0]).toBe(
        'name,email,manager,programme_id,programme,cohort,current_week,assignments_done,assignments_due,last_reply,status,paused_until,stuck,quiet,paused,behind',
      );
      expect(rows).toContainEqual(
        expect.stringMatching(
          /^Aisha Khan,aisha\.khan@businessandtrade\.gov\.uk,Rachel Green,digital-engagement-for-policy,Digital engagement for policy officials,jan-2027,1,1,1,\d{4}-\d\d-\d\d,active,,false,false,false,false$/,
        ),
      );
      expect(rows).toContainEqual(
        expect.stringMatching(/^"'=HYPERLINK\(""http:\/\/evil\.example""\) Jones",gareth/),
      );
    });

    it('writes a self-contained HTML page with --out', async () => {
      const file = join(dir, 'report.html');
      const result = await runGym(['report', '--format', 'html', '--out', file], env);
      expect(result).toMatchObject({ code: 0, stdout: `wrote ${file}: 8 learners\n` });
      const html = readFileSync(file, 'utf8');
      expect(html).toMatch(/^<!doctype html>\n<html lang="en-GB">/);
      expect(html.match(/<svg [^>]*class="funnel"/g)).toHaveLength(3);
      expect(html).not.toMatch(/<script|<link|src=|url\(/);
    });

    it('prints the report as one JSON object', async () => {
      const result = await runGym(['report', '--json'], env);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as Report;
      expect(report.totals).toMatchObject({ learners: 8, done: 1, due: 8, programmes: 3 });
    });

    it('names the cohorts there are when asked for one that is not', async () => {
      const result = await runGym(['report', '--cohort', 'jan-2026'], env);
      expect(result).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'gym: no learners in cohort "jan-2026"; the cohorts are jan-2027 (8)\n',
      });
      const bad = await runGym(['report', '--format', 'pdf'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("argument 'pdf' is invalid");
    });
  });
});
