import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

interface View {
  found: boolean;
  profile: { name: string; role: string };
  programmes: {
    programme: string;
    status: string;
    why: string;
    sent: { step: string }[];
    next: { step: string; detail: string | null }[];
    notSent: { step: string; status: string; detail: string }[];
  }[];
  flags: string[];
}

// One embedded database through show, pause, move and show again (child processes: slow).
describe('gym learner show and move', () => {
  const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-show-')) };
  const daniel = 'daniel.evans@businessandtrade.gov.uk';
  const show = async (email: string) => {
    const shown = await runGym(['learner', 'show', email, '--json'], env);
    expect(shown.stderr).toBe('');
    return JSON.parse(shown.stdout) as View;
  };

  // A safety net for a busy machine (several child processes each), never a timing.
  beforeAll(async () => {
    // Enrolled the day before week 1, on the same clock as the run: the welcome is due on Monday
    // 4 January's morning and goes with week 1 (enrolled on the wall clock, it was planned weeks
    // before the run's clock and recorded as missed).
    const enrol = ['enrol', 'test/fixtures/cohorts/example.csv', '--clock', '2027-01-03T12:00:00Z'];
    expect((await runGym(enrol, env)).code).toBe(0);
    expect((await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env)).code).toBe(0);
  }, 600_000);

  it('shows the profile, the programme and why, the timeline and its conditions', async () => {
    const view = await show(daniel);
    expect(view.profile).toMatchObject({ name: 'Daniel Evans', role: 'analyst' });
    expect(view.programmes).toHaveLength(1);
    const [programme] = view.programmes;
    expect(programme).toMatchObject({
      programme: 'digital-engagement-for-policy',
      status: 'active',
      why: 'role analyst matched; priority 10 beat digital-foundations 0',
    });
    expect(programme!.sent.map((s) => s.step)).toEqual(['welcome', 'w01-kickoff', 'w01-practice']);
    expect(programme!.next[0]).toEqual(
      expect.objectContaining({
        step: 'w01-nudge',
        detail: 'only if kickoff is not done by then',
      }),
    );
    expect(view.flags).toEqual([]);

    const text = await runGym(['learner', 'show', daniel], env);
    expect(text.stdout).toContain('  why        role analyst matched');
    expect(text.stdout).toMatch(
      /next {7}Thu 7 Jan 2027 09:00 {2}w01-nudge \(email\), waiting on a condition: only if kickoff is not done by then/,
    );
    const nobody = await runGym(['learner', 'show', 'nobody@example.org'], env);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe('gym: no learner at nobody@example.org; check the address\n');
  });

  it('moves a learner to another programme without recording a no, naming who did it', async () => {
    const moved = await runGym(
      [
        'learner',
        'move',
        daniel,
        '--to',
        'digital-foundations',
        '--reason',
        'analyst, not policy',
        '--by',
        'Ann Trainer',
      ],
      env,
    );
    expect(moved, moved.stderr).toMatchObject({ code: 0, stderr: '' });
    // Week 1 went out on 4 January: the new programme carries on with week 2, where the old
    // plan was (its week 1 counted from the same Monday).
    expect(moved.stdout).toBe(
      `${daniel}: moved from digital-engagement-for-policy to digital-foundations, from week 2 ` +
        '(week 1 counted from 2027-01-04; 36 messages planned)\n',
    );
    const view = await show(daniel);
    const [before, after] = view.programmes;
    expect(before!.status).toBe('stopped');
    expect(
      before!.notSent.every((r) =>
        r.detail.includes('moved to digital-foundations by Ann Trainer'),
      ),
    ).toBe(true);
    expect(after).toMatchObject({
      programme: 'digital-foundations',
      status: 'active',
      why: 'moved from digital-engagement-for-policy by Ann Trainer (gym learner move), from week 2: analyst, not policy',
    });
    expect(after!.next[0]!.step).toBe('w02-kickoff');
    // A move is not the learner's no: nothing is suppressed.
    expect(view.flags).toEqual([]);
    const again = await runGym(['learner', 'move', daniel, '--to', 'digital-foundations'], env);
    expect(again.stderr).toBe(
      `gym: ${daniel} already follows digital-foundations; nothing changed\n`,
    );
  });
});
