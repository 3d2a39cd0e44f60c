import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';
import { testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo } from '../inbound/reply-builder.js';

const gareth = 'gareth.jones@cardiff.gov.uk';
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

// Export, erase, export again, re-import: on the embedded database and on PostgreSQL.
describe.each(testBackends())('gym learner export and erase on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gym-erase-'));
  let env: Record<string, string> = { GYM_DATA_DIR: dataDir };
  let database: TestDatabase | undefined;
  let before: string;

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
    // Gareth answers his week 1 email twice: a reflection (acted on) and a "stop" sent to the
    // plain reply address (held for a person, with its raw bytes).
    const kickoff = maildirFiles(join(dataDir, 'outbox')).find(
      (f) => f.text.includes(`To: Gareth Jones <${gareth}>`) && /Subject: Week 1/.test(f.text),
    );
    const sent = await answered(Buffer.from(kickoff!.text, 'latin1'));
    const inbox = join(dataDir, 'inbox', 'new');
    mkdirSync(inbox, { recursive: true });
    writeFileSync(
      join(inbox, '1.reflection'),
      await replyTo(sent, 'I found the library events page hard to share from my phone.', {
        messageId: '<gareth-reflection@mail.example.test>',
        date: new Date('2027-01-04T13:00:00Z'),
      }),
    );
    writeFileSync(
      join(inbox, '2.held'),
      await replyTo(sent, 'stop', {
        to: 'progress@localhost',
        messageId: '<gareth-held@mail.example.test>',
        date: new Date('2027-01-04T13:05:00Z'),
      }),
    );
    const read = await runGym(['run', '--once', '--clock', '2027-01-04T13:10:00Z'], env);
    expect(read.code, read.stderr).toBe(0);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('exports everything held about the person as JSON', async () => {
    const exported = await runGym(['learner', 'export', ` ${gareth.toUpperCase()}`], env);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    before = exported.stdout;
    const record = JSON.parse(before) as Record<string, unknown> & {
      learner: { first_name: string; email: string; profile: Record<string, unknown> };
      deliveries: { message_id: string | null; status: string }[];
      replies: { text: string | null; raw: string | null; status: string }[];
      progressEvents: { kind: string }[];
      enrolments: { programme: string; match_reason: string }[];
    };
    expect(record.learner).toMatchObject({ first_name: 'Gareth', email: gareth });
    expect(record.enrolments.map((e) => e.programme)).toEqual(['digital-foundations']);
    expect(record.deliveries.filter((d) => d.status === 'sent').every((d) => d.message_id)).toBe(
      true,
    );
    expect(record.progressEvents.map((e) => e.kind)).toEqual(['reflection']);
    expect(record.replies.map((r) => r.status)).toEqual(['processed', 'quarantined']);
    expect(record.replies[0]!.text).toContain('library events page');
    // The held one keeps its raw mail: exported as base64, byte for byte.
    expect(Buffer.from(record.replies[1]!.raw!, 'base64').toString()).toContain(
      'Message-ID: <gareth-held@mail.example.test>',
    );

    const file = join(dataDir, 'gareth.json');
    const written = await runGym(['learner', 'export', gareth, '--out', file], env);
    expect(written.stdout).toBe(`${gareth}: written to ${file}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ address: gareth });
  });

  it('erases only with --confirm, and then nothing personal is left', async () => {
    const unconfirmed = await runGym(['learner', 'erase', gareth], env);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('add --confirm');
    expect(maildirFiles(join(dataDir, 'outbox')).some((f) => f.text.includes(gareth))).toBe(true);

    const erased = await runGym(
      ['learner', 'erase', gareth, '--confirm', '--reason', 'SAR ref 42', '--by', 'Data Officer'],
      env,
    );
    expect(erased, erased.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(erased.stdout).toMatch(
      new RegExp(
        `^${gareth.replace(/\./g, '\\.')}: erased by Data Officer \\(audit #1\\): 2 replies, 1 progress events, \\d+ outbox files, \\d+ inbox files removed;`,
      ),
    );

    const after = await runGym(['learner', 'export', gareth], env);
    expect(after.code).toBe(0);
    // Beyond the address asked about, echoed back: nothing of theirs.
    const { address, ...held } = JSON.parse(after.stdout) as { address: string };
    expect(address).toBe(gareth);
    for (const personal of [gareth, 'Gareth', 'Jones', 'library events page', 'library-assistant'])
      expect(JSON.stringify(held)).not.toContain(personal);
    const record = held as {
      learner: unknown;
      replies: unknown[];
      erasures: { erased_by: string; reason: string; removed: Record<string, number> }[];
      suppressions: { scope: string; how: string }[];
    };
    expect(record.learner).toBeUndefined();
    expect(record.replies).toEqual([]);
    expect(record.erasures).toMatchObject([{ erased_by: 'Data Officer', reason: 'SAR ref 42' }]);
    expect(record.suppressions).toMatchObject([{ scope: 'all', how: 'erasure' }]);
    // The outbox and the inbox no longer hold their mail; everyone else's is still there.
    const outbox = maildirFiles(join(dataDir, 'outbox'));
    expect(outbox.filter((f) => f.text.toLowerCase().includes(gareth))).toEqual([]);
    expect(outbox.some((f) => f.text.includes('aisha.khan@businessandtrade.gov.uk'))).toBe(true);
    expect(maildirFiles(join(dataDir, 'inbox')).filter((f) => f.text.includes(gareth))).toEqual([]);
    // A second erasure has nothing left to erase.
    const again = await runGym(['learner', 'erase', gareth, '--confirm'], env);
    expect(again.stderr).toBe(`gym: ${gareth} was erased already; nothing personal is held\n`);
  });

  it('refuses to enrol the erased person again, as suppressed', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const dry = await runGym(['enrol', cohort, '--dry-run'], env);
    expect(dry.stdout).toContain(
      `line 8: ${gareth} had their data erased on ${today} (erasure); skipped\n`,
    );
    const real = await runGym(['enrol', cohort, '--json'], env);
    const learners = (JSON.parse(real.stdout) as { learners: { email: string; action: string }[] })
      .learners;
    expect(learners.find((l) => l.email === gareth)?.action).toBe('skipped');
    const exported = JSON.parse((await runGym(['learner', 'export', gareth], env)).stdout) as {
      learner: unknown;
    };
    expect(exported.learner).toBeUndefined();
  });
});
