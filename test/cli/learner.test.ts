import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

const today = () => new Date().toISOString().slice(0, 10);

// One database through the three steps (each a few child processes on a busy machine).
describe('gym learner suppress and resubscribe', () => {
  const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-learner-')) };
  const cohort = 'test/fixtures/cohorts/example.csv';

  it('records a no given by hand, for all mail or only the digests', async () => {
    expect((await runGym(['enrol', cohort], env)).code).toBe(0);

    const suppressed = await runGym(
      ['learner', 'suppress', ' Tom.Fletcher@FCDO.gov.uk', '--reason', 'asked by phone'],
      env,
    );
    expect(suppressed).toMatchObject({ code: 0, stderr: '' });
    // His open programme ends with it: every row still to be sent is cancelled.
    expect(suppressed.stdout).toMatch(
      /^tom\.fletcher@fcdo\.gov\.uk: no more mail; \d+ queued messages cancelled\n$/,
    );
    const digestsOnly = await runGym(
      ['learner', 'suppress', 'helen.walsh@fcdo.gov.uk', '--scope', 'digests', '--by', 'Ann'],
      env,
    );
    expect(digestsOnly.stdout).toBe('helen.walsh@fcdo.gov.uk: no more manager digests\n');
  });

  it('skips the suppressed learner by line, on a dry run and a real import', async () => {
    // Dry run and real import alike name the row by its line, and leave him out.
    const dry = await runGym(['enrol', cohort, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      `line 3: tom.fletcher@fcdo.gov.uk unsubscribed on ${today()} (by hand); skipped\n`,
    );
    expect(dry.stdout).toMatch(
      /8 learners: 0 would be enrolled, 7 already on a programme, 1 skipped \(they said no\) \(dry run: nothing was written\)\n$/,
    );
    const real = await runGym(['enrol', cohort, '--json'], env);
    const learners = (JSON.parse(real.stdout) as { learners: { email: string; action: string }[] })
      .learners;
    expect(learners.find((l) => l.email === 'tom.fletcher@fcdo.gov.uk')?.action).toBe('skipped');
  });

  it('lifts it only with resubscribe and a reason, recording who', async () => {
    // Lifting needs a reason; it says what it lifted and who did it.
    const noReason = await runGym(['learner', 'resubscribe', 'tom.fletcher@fcdo.gov.uk'], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("required option '--reason <words>' not specified");
    const lifted = await runGym(
      [
        'learner',
        'resubscribe',
        'tom.fletcher@fcdo.gov.uk',
        '--reason',
        'asked to come back',
        '--by',
        'Ann Trainer',
      ],
      env,
    );
    expect(lifted).toMatchObject({ code: 0, stderr: '' });
    expect(lifted.stdout).toBe(
      `tom.fletcher@fcdo.gov.uk: lifted "unsubscribed on ${today()} (by hand)" (by Ann Trainer)\n` +
        're-import their cohort to enrol them again\n',
    );
    const again = await runGym(
      ['learner', 'resubscribe', 'tom.fletcher@fcdo.gov.uk', '--reason', 'x'],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'gym: tom.fletcher@fcdo.gov.uk has no suppression to lift; nothing changed\n',
    );

    // Back in: the next import enrols him again.
    const back = await runGym(['enrol', cohort, '--dry-run'], env);
    expect(back.stdout).toContain('    3  would-enrol tom.fletcher@fcdo.gov.uk');
  });

  it('refuses what is not an address, in one line, exit 1', async () => {
    const result = await runGym(['learner', 'suppress', 'not-an-address'], env);
    expect(result).toMatchObject({
      code: 1,
      stderr: 'gym: "not-an-address" is not an email address\n',
    });
  });
});
