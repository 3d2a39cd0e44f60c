import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { templateContext } from '../../src/render/context.js';
import {
  compileProgramme,
  renderInvite,
  renderManagerTips,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
  type RenderedEmail,
} from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { Sequence } from '../../src/sequence/schema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [r.sequence] : [],
);

const learner = {
  first_name: 'Sam',
  last_name: 'Taylor',
  email: 'sam.taylor@example.gov.uk',
  role: 'press-officer',
  organisation: 'Eastmoor District Council',
};
const manager = { name: 'Priya Shah', email: 'priya.shah@example.gov.uk' };
const chrome = { replyAddress: 'progress+t0k3n@gym.example.gov.uk', assignmentsDone: 2 };

/** Anything of Liquid left in what a learner would read is a bug. */
const leftover = /\{\{|\}\}|\{%|%\}/;

function expectComplete(email: RenderedEmail, where: string) {
  for (const part of ['subject', 'preheader', 'html', 'text'] as const) {
    expect(email[part], `${where} ${part}`).not.toMatch(leftover);
  }
  expect(email.subject.trim(), where).not.toBe('');
  expect(email.text.length, `${where} plain text`).toBeGreaterThan(200);
  expect(Buffer.byteLength(email.html), `${where} HTML size`).toBeLessThan(90 * 1024);
  expect(email.html).toContain('lang="en-GB"');
}

describe.each(programmes.map((p): [string, Sequence] => [p.id, p]))(
  'every email of the shipped programme %s',
  (_id, sequence) => {
    it('compiles under MJML strict validation and renders completely for a learner', async () => {
      const compiled = await compileProgramme(sequence, { validation: 'strict' });
      let emails = 0;
      for (const week of sequence.weeks) {
        const context = templateContext(sequence, week.week, learner, manager);
        for (const step of week.steps) {
          const where = `${sequence.id} week ${week.week} step ${step.id}`;
          if (step.email) {
            const email = renderStep(compiled, week.week, step.id, context, chrome);
            expectComplete(email, where);
            expect(email.html).toContain(`Week ${week.week} of 12`);
            emails += 1;
          } else {
            const invite = renderInvite(compiled, week.week, step.id, context);
            expect(`${invite.title}\n${invite.description}`, where).not.toMatch(leftover);
            expect(invite.description.length, where).toBeGreaterThan(40);
          }
        }
        const [tip] = renderManagerTips(compiled, context, 1);
        expect(tip, `${sequence.id} week ${week.week} manager tip`).toContain('Sam');
      }
      expectComplete(
        renderWelcome(compiled, templateContext(sequence, 1, learner, manager), chrome),
        'welcome',
      );
      expectComplete(
        renderProgrammeEnd(compiled, templateContext(sequence, 12, learner, manager), chrome),
        'end',
      );
      expect(emails).toBeGreaterThanOrEqual(24);
    });
  },
);

it('finds the three shipped programmes', () => {
  expect(programmes).toHaveLength(3);
});
