import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { dayNames } from '../../src/sequence/schema.js';
import { runGym } from '../helpers/cli.js';

interface SimulatedEvent {
  week: number;
  kind: 'email' | 'invite' | 'digest' | 'welcome' | 'programme-end' | 'introduction';
  step?: string;
  subject?: string;
  title?: string;
  sendAt: string;
  sendAtLocal: string;
  slot?: string;
  slotLocal?: string;
  durationMinutes?: number;
  condition?: string;
  weeks?: [number, number];
}

interface Simulation {
  learner: { name: string; zone: string };
  programme: { id: string; chosenBy: string; reason?: string };
  start: string;
  events: SimulatedEvent[];
}

const learner = 'test/fixtures/learners/new-york.yaml';
const programmeId = 'digital-engagement-for-policy';
const newYork = 'America/New_York';

async function simulate(args: readonly string[]): Promise<Simulation> {
  // The machine in Auckland: nothing may depend on the zone the command runs in.
  const result = await runGym(['simulate', '--learner', learner, '--json', ...args], {
    TZ: 'Pacific/Auckland',
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Simulation;
}

/** The programme as the file says it, to hold the simulation to it step by step. */
function programmeFile() {
  const loaded = loadSequenceFiles(['sequences']).find(
    (r) => r.ok && r.sequence.id === programmeId,
  );
  if (!loaded?.ok) throw new Error(`${programmeId} does not load`);
  return loaded.sequence;
}

describe('gym simulate', () => {
  it('lists twelve weeks of emails and invites at the programme’s times on the learner’s clock', async () => {
    // Jordan starts on Monday 8 March 2027; New York's clocks go forward on Sunday 14 March.
    const simulation = await simulate(['--sequence', programmeId, '--start', '2027-03-08']);
    expect(simulation.programme).toMatchObject({ id: programmeId, chosenBy: 'option' });
    expect(simulation.start).toBe('2027-03-08');

    const sequence = programmeFile();
    const learnerEvents = simulation.events.filter(
      (e) => e.kind === 'email' || e.kind === 'invite',
    );
    expect(new Set(learnerEvents.map((e) => e.week))).toEqual(
      new Set(Array.from({ length: 12 }, (_, i) => i + 1)),
    );
    expect(learnerEvents).toHaveLength(sequence.weeks.flatMap((w) => w.steps).length);

    const firstMonday = DateTime.fromISO('2027-03-08', { zone: newYork });
    for (const week of sequence.weeks) {
      for (const step of week.steps) {
        const event = learnerEvents.find((e) => e.week === week.week && e.step === step.id);
        expect(event, `week ${week.week} ${step.id}`).toBeDefined();
        const at = step.at ?? sequence.schedule.send_at;
        const day = firstMonday.plus({ weeks: week.week - 1 });
        const expected = day
          .plus({ days: dayNames.indexOf(step.day) })
          .toFormat(`ccc yyyy-MM-dd '${at}' '${newYork}'`);
        if (step.invite) {
          expect(event!.kind).toBe('invite');
          expect(event!.slotLocal).toBe(expected);
          expect(event!.durationMinutes).toBe(30);
          // Sent with the week's Monday email, ahead of the slot it blocks.
          expect(event!.sendAtLocal).toBe(day.toFormat(`ccc yyyy-MM-dd '09:00' '${newYork}'`));
          expect(event!.sendAt < event!.slot!).toBe(true);
        } else {
          expect(event!.kind).toBe('email');
          expect(event!.sendAtLocal).toBe(expected);
          expect(event!.subject).not.toContain('{{');
        }
        if (step.when?.not_done)
          expect(event!.condition).toBe(`only if ${step.when.not_done} is not done`);
      }
    }

    // 09:00 in New York is 14:00 UTC under EST (week 1) and 13:00 UTC under EDT (week 2 on).
    const kickoffs = learnerEvents.filter((e) => e.step === 'kickoff');
    expect(kickoffs.map((e) => e.sendAtLocal.slice(0, 3))).toEqual(Array(12).fill('Mon'));
    expect(kickoffs[0]!.sendAt).toBe('2027-03-08T14:00:00.000Z');
    expect(kickoffs[1]!.sendAt).toBe('2027-03-15T13:00:00.000Z');

    // The manager (in the learner's zone by default) hears every fortnight, then a wrap-up.
    const digests = simulation.events.filter((e) => e.kind === 'digest');
    expect(digests.map((e) => e.sendAtLocal)).toEqual(
      Array.from({ length: 7 }, (_, i) =>
        firstMonday.plus({ days: 14 * i }).toFormat(`ccc yyyy-MM-dd '08:00' '${newYork}'`),
      ),
    );
    expect(digests.map((e) => e.weeks)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
      [11, 12],
      [13, 14],
    ]);
  });

  it('sends the manager’s digests on the manager’s clock when they are elsewhere', async () => {
    const simulation = await simulate([
      '--sequence',
      programmeId,
      '--start',
      '2027-03-08',
      '--manager-zone',
      'Europe/London',
    ]);
    const digests = simulation.events.filter((e) => e.kind === 'digest');
    expect(digests.map((e) => e.sendAtLocal.slice(4))).toEqual([
      '2027-03-08 08:00 Europe/London',
      '2027-03-22 08:00 Europe/London',
      '2027-04-05 08:00 Europe/London',
      '2027-04-19 08:00 Europe/London',
      '2027-05-03 08:00 Europe/London',
      '2027-05-17 08:00 Europe/London',
      '2027-05-31 08:00 Europe/London',
    ]);
    // London changes its clocks on 28 March, two weeks after New York.
    expect(digests.slice(0, 3).map((e) => e.sendAt)).toEqual([
      '2027-03-08T08:00:00.000Z',
      '2027-03-22T08:00:00.000Z',
      '2027-04-05T07:00:00.000Z',
    ]);
  });

  it('lists the welcome, the programme-end email and the manager introduction with their times (#14)', async () => {
    const simulation = await simulate(['--sequence', programmeId, '--start', '2027-03-08']);
    const one = (kind: string) => {
      const found = simulation.events.filter((e) => e.kind === kind);
      expect(found, kind).toHaveLength(1);
      return found[0]!;
    };
    // Week 1 starts on Monday 8 March in New York: the welcome the Friday before at the
    // learner's 09:00, the introduction at 08:00 the working day before the first digest.
    expect(one('welcome')).toMatchObject({ week: 1, sendAt: '2027-03-05T14:00:00.000Z' });
    expect(one('introduction')).toMatchObject({ week: 1, sendAt: '2027-03-05T13:00:00.000Z' });
    const firstDigest = simulation.events.find((e) => e.kind === 'digest')!;
    expect(Date.parse(one('introduction').sendAt)).toBeLessThan(Date.parse(firstDigest.sendAt));
    // After the last step (Friday 28 May), the next working morning.
    const steps = simulation.events.filter((e) => e.kind === 'email' || e.kind === 'invite');
    const end = one('programme-end');
    expect(end).toMatchObject({ week: 12, sendAt: '2027-05-31T13:00:00.000Z' });
    expect(steps.every((e) => Date.parse(e.sendAt) < Date.parse(end.sendAt))).toBe(true);

    const text = await runGym(['simulate', '--learner', learner, '--start', '2027-03-08']);
    expect(text.stdout).toMatch(/^ {2}Fri 2027-03-05 09:00 -05:00 .* welcome +en +Welcome email$/m);
    expect(text.stdout).toMatch(
      /^ {2}Fri 2027-03-05 08:00 -05:00 .* introduction +en +Manager introduction$/m,
    );
    expect(text.stdout).toMatch(
      /^ {2}Mon 2027-05-31 09:00 -04:00 .* programme-end +en +Programme-end email$/m,
    );
  });

  it('prints a readable timeline, week by week, with the matcher’s choice and why', async () => {
    const result = await runGym(['simulate', '--learner', learner, '--start', '2027-03-08']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Programme: ${programmeId}`);
    expect(result.stdout).toContain('chosen by the matcher: role policy-officer matched');
    for (let week = 1; week <= 12; week++)
      expect(result.stdout).toMatch(new RegExp(`^Week ${week}: `, 'm'));
    expect(result.stdout).toMatch(
      /^ {2}Mon 2027-03-08 09:00 -05:00 {2}2027-03-08 14:00 UTC {2}email +en +kickoff +Week 1: /m,
    );
    expect(result.stdout).toContain('only if kickoff is not done');
    expect(result.stdout).toContain('Manager digest: wrap-up after week 12');
  });

  it('shows the language of each message: the learner’s as the programme offers it, the manager’s (#15)', async () => {
    const result = await runGym([
      'simulate',
      '--learner',
      learner,
      '--start',
      '2027-03-08',
      '--dir',
      'test/fixtures/sequences/bilingual',
      '--sequence',
      'bilingual-basics',
      '--language',
      'cy+en',
      '--manager-language',
      'cy',
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      'Languages: the learner asked for cy+en and gets cy+en (the programme offers cy, en); the manager gets cy',
    );
    expect(result.stdout).toMatch(
      /^ {2}Mon 2027-03-15 09:00 -04:00 .* email +cy\+en +kickoff +Wythnos 2 \/ Week 2: datgloi’r gwefannau sydd eu hangen arnoch \/ get the sites you need unblocked$/m,
    );
    // The digest's title is the Welsh manager's own.
    expect(result.stdout).toMatch(/ digest +cy +Crynodeb i reolwyr: wythnosau 1–2$/m);
    expect(result.stdout).not.toMatch(/ digest +cy +Manager digest/);
    expect(result.stdout).toMatch(
      / invite +cy\+en +practice +Ymarfer: dechrau lle rydych chi \/ Practice: start where you are$/m,
    );
    // A Welsh learner on an English-only programme gets English, and is told so.
    const english = await runGym(['simulate', '--learner', learner, '--language', 'cy', '--json']);
    const timeline = JSON.parse(english.stdout) as { events: { kind: string; language: string }[] };
    expect(
      new Set(
        timeline.events
          .filter((e) => e.kind !== 'digest' && e.kind !== 'introduction')
          .map((e) => e.language),
      ),
    ).toEqual(new Set(['en']));
  });

  it('names the programmes there are when asked for one that is not', async () => {
    const result = await runGym(['simulate', '--learner', learner, '--sequence', 'knitting']);
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'gym: no programme "knitting" in sequences (there are: digital-engagement-for-policy, digital-foundations, social-media-for-comms)\n',
    });
  });

  it('reads every profile field a rule can use from the sample, and the manager’s own zone', async () => {
    // A programme for people short of confidence, behind locked-down IT, on one pay band, who
    // share with their manager: every kind of rule, and a free field.
    const dir = mkdtempSync(join(tmpdir(), 'gym-simulate-'));
    cpSync('sequences', dir, { recursive: true });
    const foundations = readFileSync('sequences/digital-foundations.yaml', 'utf8');
    writeFileSync(
      join(dir, 'confidence-first.yaml'),
      foundations
        .replace('id: digital-foundations', 'id: confidence-first')
        .replace(
          /audience:\n {2}default: true\n {2}priority: 0\n {2}match: \{\}/,
          [
            'audience:',
            '  priority: 30',
            '  match:',
            '    confidence: { max: 2 }',
            '    barriers: [locked-down-it]',
            '    goals: [build-audience]',
            '    share_with_manager: true',
            '    cohort: jan-2027',
            '    pay_band: HEO',
          ].join('\n'),
        ),
    );
    const sample = (confidence: number) => {
      const file = join(mkdtempSync(join(tmpdir(), 'gym-sample-')), `sample-${confidence}.yaml`);
      writeFileSync(
        file,
        [
          'learner:',
          '  first_name: Jordan',
          '  last_name: Lee',
          '  email: jordan.lee@example.gov.uk',
          '  time_zone: America/New_York',
          '  role: policy-officer',
          `  confidence: ${confidence}`,
          '  barriers: Locked-down IT; no time',
          '  goals: [build-audience]',
          '  share_with_manager: yes',
          '  cohort: jan-2027',
          '  fields: { Pay Band: HEO }',
          'manager: { name: Casey Lee, email: casey.lee@example.gov.uk, time_zone: Europe/London }',
          'starts_on: 2027-03-08',
        ].join('\n'),
      );
      return file;
    };
    const run = async (file: string) => {
      const result = await runGym(['simulate', '--learner', file, '--dir', dir, '--json']);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as Simulation;
    };
    const unsure = await run(sample(2));
    expect(unsure.programme).toMatchObject({ id: 'confidence-first', chosenBy: 'matcher' });
    expect(unsure.programme.reason).toBe(
      'confidence 2 ≤ 2; barriers locked-down-it matched; goals build-audience matched; ' +
        'share_with_manager true matched; cohort jan-2027 matched; pay_band HEO matched; ' +
        'priority 30 beat digital-engagement-for-policy 10 and digital-foundations 0',
    );
    // The manager's zone comes from the sample, not from the learner's.
    const digests = unsure.events.filter((e) => e.kind === 'digest');
    expect(digests[0]!.sendAtLocal.slice(4)).toBe('2027-03-08 08:00 Europe/London');
    // More confident: the rule on confidence fails, and the role decides.
    expect((await run(sample(4))).programme.id).toBe(programmeId);
  });
});
