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
import { offeredLanguages, type Sequence } from '../../src/sequence/schema.js';
import { progressText } from '../../src/language/chrome-text.js';
import type { Language } from '../../src/language/languages.js';

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

function expectComplete(email: RenderedEmail, where: string, language: Language = 'en') {
  for (const part of ['subject', 'preheader', 'html', 'text'] as const) {
    expect(email[part], `${where} ${part}`).not.toMatch(leftover);
  }
  expect(email.subject.trim(), where).not.toBe('');
  expect(email.text.length, `${where} plain text`).toBeGreaterThan(200);
  expect(Buffer.byteLength(email.html), `${where} HTML size`).toBeLessThan(90 * 1024);
  expect(email.html).toContain(language === 'en' ? 'lang="en-GB"' : `lang="${language}"`);
}

describe.each(programmes.map((p): [string, Sequence] => [p.id, p]))(
  'every email of the shipped programme %s',
  (_id, sequence) => {
    // Each language the programme is written in, as a learner who asked for it gets it.
    it.each(offeredLanguages(sequence))(
      'compiles under MJML strict validation and renders completely for a learner (%s)',
      async (language) => {
        const compiled = await compileProgramme(sequence, { validation: 'strict', language });
        let emails = 0;
        for (const week of sequence.weeks) {
          const context = templateContext(sequence, week.week, learner, manager);
          for (const step of week.steps) {
            const where = `${sequence.id} week ${week.week} step ${step.id}`;
            if (step.email) {
              const email = renderStep(compiled, week.week, step.id, context, chrome);
              expectComplete(email, where, language);
              expect(email.html).toContain(progressText(language, week.week, 12, 0));
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
          language,
        );
        expectComplete(
          renderProgrammeEnd(compiled, templateContext(sequence, 12, learner, manager), chrome),
          'end',
          language,
        );
        expect(emails).toBeGreaterThanOrEqual(24);
      },
    );
  },
);

it('finds the three shipped programmes', () => {
  expect(programmes).toHaveLength(3);
});
