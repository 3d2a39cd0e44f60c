import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';
import { testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered } from '../inbound/reply-builder.js';

const mark = 'mark.davies@cardiff.gov.uk';
const cohort = 'test/fixtures/cohorts/example.csv';

/** Every message file under a Maildir (and its subfolders), with its bytes. */
function maildirFiles(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push({ path, text: readFileSync(path, 'latin1') });
    }
  };
  try {
    walk(dir);
  } catch {
    // no folder: no files
  }
  return out;
}

const toMark = (f: { text: string }) => f.text.includes(`To: Mark Davies <${mark}>`);

// A manager's data rights (#14): export, erase, export again, re-import, and no more digests;
// on the embedded database and on PostgreSQL.
describe.each(testBackends())('gym manager show, export and erase on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gym-erase-manager-'));
  let env: Record<string, string> = { GYM_DATA_DIR: dataDir };
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    if (backend.name === 'postgres') {
      database = await backend.open();
      env = {
        ...env,
        DATABASE_URL: database.url!,
        GYM_SECRET: 'b7f3c9e1a2d4f6081357924680ace1357bdf2468ace0',
      };
    }
    expect((await runGym(['enrol', cohort], env)).code).toBe(0);
    const run = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env);
    expect(run.code, run.stderr).toBe(0);
    // Mark answers his introduction: a note about Gareth (read by its thread).
    const introduction = maildirFiles(join(dataDir, 'outbox')).find(
      (f) => toMark(f) && f.text.includes('Subject: Your team is starting Digital Gym'),
    );
    const sent = await answered(Buffer.from(introduction!.text, 'latin1'));
    const inbox = join(dataDir, 'inbox', 'new');
    mkdirSync(inbox, { recursive: true });
    writeFileSync(
      join(inbox, '1.note'),
      await new MailComposer({
        newline: 'windows',
        from: `Mark Davies <${mark}>`,
        to: sent.replyTo,
        subject: `Re: ${sent.subject}`,
        inReplyTo: sent.messageId,
        messageId: '<mark-note@cardiff.example>',
        date: new Date('2027-01-04T13:00:00Z'),
        text: 'Talked to Gareth about protecting his practice time.',
      })
        .compile()
        .build(),
    );
    const read = await runGym(['run', '--once', '--clock', '2027-01-04T13:10:00Z'], env);
    expect(read.code, read.stderr).toBe(0);
    // Four child processes of the real gym: slow on a loaded machine.
  }, 600_000);
  afterAll(async () => {
    await database?.close();
  });

  it('shows and exports everything held about the manager', async () => {
    const shown = await runGym(['manager', 'show', mark], env);
    expect(shown, shown.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toContain(`Mark Davies <${mark}>`);
    expect(shown.stdout).toContain('Gareth Jones');
    expect(shown.stdout).toMatch(/introduction {2}sent/);
    expect(shown.stdout).toContain('talked about Gareth Jones');

    const exported = await runGym(['manager', 'export', mark.toUpperCase()], env);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const record = JSON.parse(exported.stdout) as {
      manager: { name: string; email: string };
      learners: { first_name: string }[];
      introductions: { status: string; message_id: string }[];
      replies: { text: string; raw: string | null }[];
      notes: { action: string; text: string; about_first_name: string }[];
    };
    expect(record.manager).toMatchObject({ name: 'Mark Davies', email: mark });
    expect(record.learners.map((l) => l.first_name).sort()).toEqual(['Fiona', 'Gareth']);
    expect(record.introductions).toMatchObject([{ status: 'sent' }]);
    expect(record.introductions[0]!.message_id).toMatch(/^<i\d+\./);
    expect(record.replies).toHaveLength(1);
    expect(record.replies[0]!.text).toContain('Talked to Gareth');
    expect(record.notes).toMatchObject([{ action: 'talked', about_first_name: 'Gareth' }]);
    expect(record.notes[0]!.text).toContain('Talked to Gareth');
  });

  it('erases only with --confirm; then nothing personal is left, nor in the outbox', async () => {
    const unconfirmed = await runGym(['manager', 'erase', mark], env);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('add --confirm');
    expect(maildirFiles(join(dataDir, 'outbox')).some(toMark)).toBe(true);

    const erased = await runGym(
      ['manager', 'erase', mark, '--confirm', '--reason', 'SAR ref 7', '--by', 'Data Officer'],
      env,
    );
    expect(erased, erased.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(erased.stdout).toMatch(
      /^mark\.davies@cardiff\.gov\.uk: erased by Data Officer \(audit #1\): 1 replies, 1 notes, [1-9]\d* outbox files, 1 inbox files removed; 2 learners carry on without a manager;/,
    );

    const after = await runGym(['manager', 'export', mark], env);
    const { address, ...held } = JSON.parse(after.stdout) as { address: string };
    expect(address).toBe(mark);
    for (const personal of [mark, 'Mark', 'Davies', 'Gareth', 'Fiona', 'practice time'])
      expect(JSON.stringify(held), personal).not.toContain(personal);
    expect((held as { manager?: unknown }).manager).toBeUndefined();
    expect(held).toMatchObject({
      learners: [],
      replies: [],
      notes: [],
      erasures: [{ erased_by: 'Data Officer', reason: 'SAR ref 7' }],
      suppressions: [{ scope: 'all', how: 'erasure' }],
    });
    expect(maildirFiles(join(dataDir, 'outbox')).filter(toMark)).toEqual([]);
    expect(maildirFiles(join(dataDir, 'inbox')).filter((f) => f.text.includes(mark))).toEqual([]);
    expect((await runGym(['manager', 'show', mark], env)).stdout).toMatch(
      /erased .* by Data Officer\); nothing personal is held/,
    );
    const again = await runGym(['manager', 'erase', mark, '--confirm'], env);
    expect(again.stderr).toBe(`gym: ${mark} was erased already; nothing personal is held\n`);
    // Their people's programmes go on.
    const gareth = JSON.parse(
      (await runGym(['learner', 'export', 'gareth.jones@cardiff.gov.uk'], env)).stdout,
    ) as { learner: { manager_id: number | null }; enrolments: { status: string }[] };
    expect(gareth.learner.manager_id).toBeNull();
    expect(gareth.enrolments.map((e) => e.status)).toEqual(['active']);
  });

  it('a re-import naming the erased manager enrols their people without recreating them', async () => {
    const real = await runGym(['enrol', cohort, '--json'], env);
    expect(real.code, real.stderr).toBe(0);
    const learners = (
      JSON.parse(real.stdout) as {
        learners: { email: string; action: string; managerNotice?: string }[];
      }
    ).learners;
    const notices = learners.filter((l) => l.managerNotice !== undefined);
    expect(notices.map((l) => [l.email, l.action])).toEqual([
      ['gareth.jones@cardiff.gov.uk', 'kept'],
      ['fiona.campbell@cardiff.gov.uk', 'kept'],
    ]);
    expect(notices[0]!.managerNotice).toContain('erased at their request: not recreated');
    const table = await runGym(['enrol', cohort, '--dry-run'], env);
    expect(table.stdout).toContain(
      'the manager on this line was erased at their request: not recreated, they get no digest',
    );
    const exported = JSON.parse((await runGym(['manager', 'export', mark], env)).stdout) as {
      manager?: unknown;
      learners: unknown[];
    };
    expect(exported.manager).toBeUndefined();
    expect(exported.learners).toEqual([]);

    // Fortnights on, their people's mail goes on; not one digest reaches the erased manager.
    const run = await runGym(['run', '--once', '--clock', '2027-01-18T12:00:00Z'], env);
    expect(run.code, run.stderr).toBe(0);
    const outbox = maildirFiles(join(dataDir, 'outbox'));
    expect(outbox.filter(toMark)).toEqual([]);
    expect(outbox.some((f) => f.text.includes('To: Gareth Jones') && /Week 3/.test(f.text))).toBe(
      true,
    );
  });
});
