import type { DigestLearner, ManagerDigest } from '../../src/render/index.js';

const firstNames = [
  'Priya',
  'Sam',
  'Alex',
  'Jo',
  'Chris',
  'Morgan',
  'Aisha',
  'Tom',
  'Fatima',
  'Owen',
];
const lastNames = [
  'Shah',
  "O'Neil",
  'Jones',
  'Evans',
  'Khan',
  'Smith',
  'Brown',
  'Patel',
  'Wilson',
  'Taylor',
];

/**
 * A manager's team of `size` learners: the first tenth said a task was too hard, the next
 * tenth are behind, the next are quiet, some paused, a third shared a reflection, the rest on
 * track. Tips and reflections are full length, as a real digest's would be.
 */
export function team(size: number): ManagerDigest {
  const learners: DigestLearner[] = Array.from({ length: size }, (_, i) => {
    const band = Math.floor((i * 10) / size);
    const week = (i % 12) + 1;
    const flags: DigestLearner['flags'] =
      band === 0
        ? [{ kind: 'stuck' }]
        : band === 1
          ? [{ kind: 'behind' }]
          : band === 2
            ? [{ kind: 'quiet', detail: 'for 3 weeks' }]
            : band === 3
              ? [{ kind: 'paused', detail: 'until 3 January' }]
              : [];
    return {
      firstName: `${firstNames[i % 10]}${i}`,
      lastName: lastNames[(i * 3) % 10] ?? 'Smith',
      programmeTitle: 'Plain English for policy teams',
      week,
      totalWeeks: 12,
      theme: 'Short sentences, common words',
      done: Math.max(0, week - 1 - (band === 1 ? 3 : 0)),
      due: week - 1,
      flags,
      reflection:
        i % 3 === 0
          ? {
              week: Math.max(1, week - 1),
              text: 'I rewrote the consultation summary and the policy lead said it was the first one she read to the end. Next I want to try the same with our monthly update, which nobody opens.',
            }
          : undefined,
      tips: [
        `Ask ${firstNames[i % 10]}${i} to show you one paragraph they rewrote this week, and what they cut from it.`,
        `In your next team meeting, ask ${firstNames[i % 10]}${i} to share the one rule of plain English they found most useful.`,
      ],
    };
  });
  return { manager: { firstName: 'Alex' }, period: '3 to 14 March', learners };
}
