import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LearnerProfile } from '../../src/enrol/profile.js';
import { matchProgramme, type ProgrammeAudience } from '../../src/matcher/match.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { Sequence } from '../../src/sequence/schema.js';
import { fixture, read } from '../enrol/helpers.js';

type Rules = Sequence['audience']['match'];

/** A learner with nothing optional given, and the given changes. */
function learner(changes: Partial<LearnerProfile> = {}): LearnerProfile {
  return {
    email: 'ana.lopez@example.gov.uk',
    first_name: 'Ana',
    last_name: 'Lopez',
    time_zone: 'Europe/London',
    role: 'press-officer',
    organisation: 'Home Office',
    manager_email: 'sam.patel@example.gov.uk',
    manager_name: 'Sam Patel',
    start_date: '2027-01-04',
    barriers: [],
    goals: [],
    share_with_manager: false,
    fields: {},
    ...changes,
  };
}

function programme(
  id: string,
  match: Rules = {},
  { priority = 0, isDefault = false } = {},
): ProgrammeAudience {
  return { id, audience: { priority, default: isDefault, match } };
}

describe('one rule against one profile', () => {
  it.each<[string, Rules, Partial<LearnerProfile>, boolean, string]>([
    ['a value', { role: 'press-officer' }, {}, true, 'role press-officer matched'],
    ['a value, ignoring case', { role: 'Press-Officer' }, {}, true, 'role press-officer matched'],
    ['a value', { role: 'analyst' }, {}, false, 'role press-officer is not analyst'],
    [
      'a list',
      { role: ['comms-officer', 'press-officer'] },
      {},
      true,
      'role press-officer matched',
    ],
    [
      'a list',
      { role: ['press-officer', 'comms-officer', 'communications-officer'] },
      { role: 'teacher' },
      false,
      'role teacher is not press-officer, comms-officer or communications-officer',
    ],
    [
      'a list, with a near miss',
      { role: ['press-officer', 'comms-officer'] },
      { role: 'press-oficer' },
      false,
      'role press-oficer is not press-officer or comms-officer (did you mean press-officer?)',
    ],
    ['max', { confidence: { max: 3 } }, { confidence: 2 }, true, 'confidence 2 ≤ 3'],
    ['max, at the edge', { confidence: { max: 3 } }, { confidence: 3 }, true, 'confidence 3 ≤ 3'],
    ['max', { confidence: { max: 3 } }, { confidence: 4 }, false, 'confidence 4 is more than 3'],
    ['min', { confidence: { min: 4 } }, { confidence: 5 }, true, 'confidence 5 ≥ 4'],
    ['min', { confidence: { min: 4 } }, { confidence: 1 }, false, 'confidence 1 is less than 4'],
    [
      'min and max',
      { confidence: { min: 2, max: 4 } },
      { confidence: 3 },
      true,
      'confidence 2 ≤ 3 ≤ 4',
    ],
    ['a value not given', { confidence: { max: 3 } }, {}, false, 'confidence not given'],
    ['a number', { confidence: 3 }, { confidence: 3 }, true, 'confidence 3 matched'],
    [
      'a list field sharing a value',
      { barriers: ['locked-down-it', 'blocked-sites'] },
      { barriers: ['no-time', 'locked-down-it'] },
      true,
      'barriers locked-down-it matched',
    ],
    [
      'a list field sharing two values',
      { barriers: ['locked-down-it', 'no-time'] },
      { barriers: ['no-time', 'locked-down-it'] },
      true,
      'barriers no-time and locked-down-it matched',
    ],
    [
      'a list field sharing none',
      { barriers: ['locked-down-it', 'blocked-sites'] },
      { barriers: ['no-time', 'fear-of-mistakes'] },
      false,
      'barriers no-time, fear-of-mistakes do not include locked-down-it or blocked-sites',
    ],
    [
      'a list field, one value',
      { goals: 'video' },
      { goals: ['video'] },
      true,
      'goals video matched',
    ],
    ['an empty list field', { barriers: 'no-time' }, { barriers: [] }, false, 'barriers not given'],
    [
      'a boolean',
      { share_with_manager: true },
      { share_with_manager: true },
      true,
      'share_with_manager true matched',
    ],
    ['a boolean', { share_with_manager: true }, {}, false, 'share_with_manager false is not true'],
    [
      'a free field',
      { pay_band: ['HEO', 'SEO'] },
      { fields: { pay_band: 'seo' } },
      true,
      'pay_band seo matched',
    ],
    [
      'a free field, by another spelling of its name',
      { 'Pay Band': 'HEO' },
      { fields: { pay_band: 'HEO' } },
      true,
      'Pay Band HEO matched',
    ],
    ['a free field not given', { pay_band: 'HEO' }, {}, false, 'pay_band not given'],
    [
      'a number in a free field, in a range',
      { years_in_post: { min: 2 } },
      { fields: { years_in_post: ' 10 ' } },
      true,
      'years_in_post 10 ≥ 2',
    ],
    [
      'a number in a free field, out of range (numerically, not as text)',
      { years_in_post: { max: 9 } },
      { fields: { years_in_post: '10' } },
      false,
      'years_in_post 10 is more than 9',
    ],
    [
      'a number in a free field, equal to a number',
      { years_in_post: 3 },
      { fields: { years_in_post: '3.0' } },
      true,
      'years_in_post 3.0 matched',
    ],
    [
      'text where a number is wanted',
      { years_in_post: { min: 2 } },
      { fields: { years_in_post: 'lots' } },
      false,
      'years_in_post lots is not a number',
    ],
    [
      'a yes/no free field against a boolean',
      { trained: false },
      { fields: { trained: 'No' } },
      true,
      'trained No matched',
    ],
    [
      'a list against a range',
      { barriers: { min: 1 } },
      { barriers: ['x'] },
      false,
      'barriers x is not a number',
    ],
  ])('%s: %j', (_, rules, changes, matched, because) => {
    const [candidate] = matchProgramme(learner(changes), [programme('p', rules)]).candidates;
    expect(candidate).toEqual({ id: 'p', priority: 0, matched, because: [because] });
  });

  it('needs every rule to hold, and says how each fared', () => {
    const rules: Rules = { role: 'press-officer', confidence: { max: 3 }, barriers: 'no-time' };
    const { candidates } = matchProgramme(learner({ confidence: 5, barriers: ['no-time'] }), [
      programme('p', rules),
    ]);
    expect(candidates[0]).toEqual({
      id: 'p',
      priority: 0,
      matched: false,
      because: [
        'role press-officer matched',
        'confidence 5 is more than 3',
        'barriers no-time matched',
      ],
    });
  });
});

describe('choosing among programmes', () => {
  const comms = programme(
    'social-media-for-comms',
    { role: ['press-officer', 'comms-officer', 'communications-officer'] },
    { priority: 20 },
  );
  const confidence = programme(
    'confidence-first',
    { confidence: { max: 3 }, barriers: ['locked-down-it'] },
    { priority: 30 },
  );
  const foundations = programme('digital-foundations', {}, { isDefault: true });
  const policy = programme('policy', { role: ['policy-officer', 'analyst'] }, { priority: 10 });

  it.each<[string, Partial<LearnerProfile>, ProgrammeAudience[], string | undefined, string]>([
    [
      'the highest priority among the matches wins',
      {},
      [foundations, comms, policy],
      'social-media-for-comms',
      'role press-officer matched; priority 20 beat digital-foundations 0',
    ],
    [
      'several rules, all named',
      { confidence: 2, barriers: ['locked-down-it'] },
      [foundations, comms, confidence],
      'confidence-first',
      'confidence 2 ≤ 3; barriers locked-down-it matched; priority 30 beat social-media-for-comms 20 and digital-foundations 0',
    ],
    [
      'a default with no rules catches the rest',
      { role: 'teacher' },
      [foundations, comms, policy],
      'digital-foundations',
      "no programme's rules matched (social-media-for-comms: role teacher is not press-officer, comms-officer or communications-officer; policy: role teacher is not policy-officer or analyst); default programme digital-foundations",
    ],
    [
      'a default whose own rules fail is still the fallback',
      { role: 'teacher' },
      [comms, programme('basics', { confidence: { max: 2 } }, { isDefault: true })],
      'basics',
      "no programme's rules matched (social-media-for-comms: role teacher is not press-officer, comms-officer or communications-officer; basics: confidence not given); default programme basics",
    ],
    [
      'a tie on priority goes to the first id',
      {},
      [
        programme('zeta', {}, { priority: 5 }),
        programme('alpha', { role: 'press-officer' }, { priority: 5 }),
      ],
      'alpha',
      'role press-officer matched; priority 5 beat zeta 5 (same priority; alpha is first by id)',
    ],
    [
      'a catch-all that is not the default',
      {},
      [programme('everyone', {}, { priority: 1 }), policy],
      'everyone',
      "no programme's rules matched (policy: role press-officer is not policy-officer or analyst); everyone has no audience rules",
    ],
    [
      'nothing matches and there is no default',
      { role: 'teacher' },
      [comms, policy],
      undefined,
      'no programme matches and none is marked default: true (social-media-for-comms: role teacher is not press-officer, comms-officer or communications-officer; policy: role teacher is not policy-officer or analyst)',
    ],
    ['no programmes at all', {}, [], undefined, 'no programmes to choose from'],
    [
      'two defaults (the loader refuses this): the same order decides',
      { role: 'teacher' },
      [
        programme('b', { role: 'x' }, { isDefault: true }),
        programme('a', { role: 'y' }, { isDefault: true }),
      ],
      'a',
      "no programme's rules matched (a: role teacher is not y; b: role teacher is not x); default programme a",
    ],
  ])('%s', (_, changes, programmes, programmeId, reason) => {
    expect(matchProgramme(learner(changes), programmes)).toMatchObject({ programmeId, reason });
  });

  it('lists every candidate, highest priority first, then by id', () => {
    const { candidates } = matchProgramme(learner(), [foundations, policy, comms, confidence]);
    expect(candidates.map((c) => `${c.id} ${c.priority} ${c.matched}: ${c.because.join('; ')}`))
      .toMatchInlineSnapshot(`
        [
          "confidence-first 30 false: confidence not given; barriers not given",
          "social-media-for-comms 20 true: role press-officer matched",
          "policy 10 false: role press-officer is not policy-officer or analyst",
          "digital-foundations 0 true: no audience rules: suits everyone",
        ]
      `);
  });
});

describe('the shipped programmes, for every learner of the example cohort', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
    r.ok ? [r.sequence] : [],
  );
  const { rows } = read(fixture('example.csv'), 'example.csv');

  it('gives each learner the programme that fits, with the reason', () => {
    expect(programmes).toHaveLength(3);
    const lines = rows.map((row) => {
      const match = matchProgramme(row, programmes);
      return `${row.line} ${row.role} → ${match.programmeId ?? 'none'}: ${match.reason}`;
    });
    expect(lines).toMatchInlineSnapshot(`
      [
        "2 press-officer → social-media-for-comms: role press-officer matched; priority 20 beat digital-foundations 0",
        "3 communications-officer → social-media-for-comms: role communications-officer matched; priority 20 beat digital-foundations 0",
        "4 comms-officer → social-media-for-comms: role comms-officer matched; priority 20 beat digital-foundations 0",
        "5 policy-officer → digital-engagement-for-policy: role policy-officer matched; priority 10 beat digital-foundations 0",
        "6 analyst → digital-engagement-for-policy: role analyst matched; priority 10 beat digital-foundations 0",
        "7 policy-advisor → digital-engagement-for-policy: role policy-advisor matched; priority 10 beat digital-foundations 0",
        "8 library-assistant → digital-foundations: no programme's rules matched (social-media-for-comms: role library-assistant is not press-officer, comms-officer or communications-officer; digital-engagement-for-policy: role library-assistant is not policy-officer, policy-advisor or analyst); default programme digital-foundations",
        "9 housing-officer → digital-foundations: no programme's rules matched (social-media-for-comms: role housing-officer is not press-officer, comms-officer or communications-officer; digital-engagement-for-policy: role housing-officer is not policy-officer, policy-advisor or analyst); default programme digital-foundations",
      ]
    `);
  });

  it('uses all three programmes', () => {
    const chosen = new Set(rows.map((row) => matchProgramme(row, programmes).programmeId));
    expect([...chosen].sort()).toEqual(programmes.map((p) => p.id).sort());
  });
});

describe('properties', () => {
  const roles = ['press-officer', 'analyst', 'teacher', 'policy-officer'];
  const barriers = ['no-time', 'locked-down-it', 'fear-of-mistakes'];

  const rules: fc.Arbitrary<Rules> = fc.record(
    {
      role: fc.oneof(fc.constantFrom(...roles), fc.subarray(roles, { minLength: 1 })),
      confidence: fc.oneof(
        fc.integer({ min: 1, max: 5 }),
        fc.record({ max: fc.integer({ min: 1, max: 5 }) }),
        fc.record({ min: fc.integer({ min: 1, max: 5 }), max: fc.integer({ min: 1, max: 5 }) }),
      ),
      barriers: fc.subarray(barriers, { minLength: 1 }),
    },
    { requiredKeys: [] },
  );
  const programmeArb = fc.record({
    id: fc.stringMatching(/^[a-z]{1,6}$/),
    audience: fc.record({
      priority: fc.integer({ min: -3, max: 3 }),
      default: fc.boolean(),
      match: rules,
    }),
  });
  const programmesArb = fc.uniqueArray(programmeArb, { selector: (p) => p.id, maxLength: 6 });
  const profileArb = fc
    .record({
      role: fc.constantFrom(...roles),
      confidence: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      barriers: fc.subarray(barriers),
    })
    .map(({ confidence, ...rest }) =>
      learner(confidence === undefined ? rest : { ...rest, confidence }),
    );

  it('gives the same result whatever the order of the programmes', () => {
    const shuffled = programmesArb.chain((programmes) =>
      fc.tuple(
        fc.constant(programmes),
        fc.shuffledSubarray(programmes, {
          minLength: programmes.length,
          maxLength: programmes.length,
        }),
      ),
    );
    fc.assert(
      fc.property(profileArb, shuffled, (profile, [programmes, reordered]) => {
        expect(matchProgramme(profile, reordered)).toEqual(matchProgramme(profile, programmes));
      }),
    );
  });

  it('picks a matching programme of the highest priority, or the default only when none match', () => {
    fc.assert(
      fc.property(profileArb, programmesArb, (profile, programmes) => {
        const { programmeId, candidates } = matchProgramme(profile, programmes);
        const matched = candidates.filter((c) => c.matched);
        const chosen = candidates.find((c) => c.id === programmeId);
        if (matched.length > 0) {
          expect(chosen?.matched).toBe(true);
          expect(chosen!.priority).toBe(Math.max(...matched.map((c) => c.priority)));
        } else if (programmes.some((p) => p.audience.default)) {
          expect(programmes.find((p) => p.id === programmeId)?.audience.default).toBe(true);
        } else expect(programmeId).toBeUndefined();
      }),
    );
  });

  it('a matching programme with a higher priority than all others always wins', () => {
    fc.assert(
      fc.property(profileArb, programmesArb, (profile, programmes) => {
        const top = Math.max(0, ...programmes.map((p) => p.audience.priority)) + 1;
        const winner = programme('zzz-winner', { role: profile.role }, { priority: top });
        expect(matchProgramme(profile, [...programmes, winner]).programmeId).toBe('zzz-winner');
        expect(matchProgramme(profile, [winner, ...programmes]).programmeId).toBe('zzz-winner');
      }),
    );
  });
});
