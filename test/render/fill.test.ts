import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { templateContext } from '../../src/render/context.js';
import type { CompiledEmail } from '../../src/render/email.js';
import {
  compileProgramme,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
  type CompiledProgramme,
} from '../../src/render/index.js';
import { fill, htmlLiquid, parseTemplate, textLiquid } from '../../src/render/templates.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { Sequence } from '../../src/sequence/schema.js';

/*
 * The fill's fast path (text, plain `{{ a.b }}` outputs and `{% if a.b != "" %}` blocks, read
 * without Liquid's interpreter, #17) must give what Liquid gives, byte for byte: every email of
 * every shipped programme is filled both ways, for learners whose names need escaping.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [r.sequence] : [],
);

const learners = [
  { first_name: 'Sam', last_name: 'Taylor' },
  { first_name: '<b>"Sam"</b> & O\'Neil', last_name: 'Zoë <script>' },
].map((names) => ({
  ...names,
  email: 'sam.taylor@example.gov.uk',
  role: 'press-officer',
  organisation: 'Eastmoor & District "Council"',
}));
const manager = { name: 'Priya Shah', email: 'priya.shah@example.gov.uk' };

/** The programme as it would be with Liquid filling everything. */
function liquidOnly(compiled: CompiledProgramme): CompiledProgramme {
  const slow = (email: CompiledEmail): CompiledEmail => ({
    ...email,
    subject: { ...email.subject, plain: undefined },
    preheader: { ...email.preheader, plain: undefined },
    html: { ...email.html, plain: undefined },
    text: { ...email.text, plain: undefined },
  });
  return {
    ...compiled,
    welcome: slow(compiled.welcome),
    end: slow(compiled.end),
    weeks: new Map(
      [...compiled.weeks].map(([n, week]) => [
        n,
        {
          ...week,
          steps: new Map(
            [...week.steps].map(([id, step]) => [
              id,
              step.kind === 'email' ? { ...step, email: slow(step.email) } : step,
            ]),
          ),
        },
      ]),
    ),
  };
}

describe.each(programmes.map((p): [string, Sequence] => [p.id, p]))(
  'filling the shipped programme %s',
  (_id, sequence) => {
    it('gives exactly what Liquid gives, for every email, with and without a progress line', async () => {
      const fast = await compileProgramme(sequence, { validation: 'soft' });
      const slow = liquidOnly(fast);
      let fastPaths = 0;
      for (const learner of learners) {
        for (const assignmentsDone of [0, 3]) {
          const chrome = {
            replyAddress: 'progress+t0k3n@gym.example.gov.uk',
            unsubscribeUrl: 'https://gym.example.gov.uk/unsubscribe/t0k3n?a=1&b=2',
            assignmentsDone,
          };
          for (const week of sequence.weeks) {
            const context = templateContext(sequence, week.week, learner, manager);
            for (const step of week.steps) {
              if (!step.email) continue;
              const where = `${sequence.id} week ${week.week} ${step.id}`;
              const compiled = fast.weeks.get(week.week)!.steps.get(step.id)!;
              if (compiled.kind === 'email' && compiled.email.html.plain !== undefined)
                fastPaths += 1;
              expect(renderStep(fast, week.week, step.id, context, chrome), where).toEqual(
                renderStep(slow, week.week, step.id, context, chrome),
              );
            }
          }
          const context = templateContext(sequence, 1, learner, manager);
          expect(renderWelcome(fast, context, chrome)).toEqual(
            renderWelcome(slow, context, chrome),
          );
          expect(renderProgrammeEnd(fast, context, chrome)).toEqual(
            renderProgrammeEnd(slow, context, chrome),
          );
        }
      }
      // The fast path is what fills the steps' HTML (else this test compares Liquid with itself).
      expect(fastPaths).toBeGreaterThan(0);
    });
  },
);

describe('the fill’s fast path', () => {
  const scope = { learner: { first_name: 'A & "B"', nested: { n: 3 } }, chrome: { progress: '' } };

  it('escapes for HTML as Liquid does, and leaves text as it is', () => {
    for (const source of [
      'Hi {{ learner.first_name }}, {{learner.nested.n}}!',
      'x{{ learner.first_name }}',
    ]) {
      const html = parseTemplate(htmlLiquid, source, 'test');
      const text = parseTemplate(textLiquid, source, 'test');
      expect(html.plain).toBeDefined();
      expect(fill(htmlLiquid, html, scope, 'test')).toBe(
        htmlLiquid.renderSync(html.liquid, scope) as string,
      );
      expect(fill(textLiquid, text, scope, 'test')).toBe(
        textLiquid.renderSync(text.liquid, scope) as string,
      );
    }
  });

  it('leaves to Liquid what it does not read, and fails as Liquid does on a missing value', () => {
    expect(
      parseTemplate(textLiquid, '{{ learner.first_name | upcase }}', 't').plain,
    ).toBeUndefined();
    expect(parseTemplate(textLiquid, '{%- if a != "" %}x{% endif %}', 't').plain).toBeUndefined();
    expect(
      parseTemplate(textLiquid, '{% if a %}x{% else %}y{% endif %}', 't').plain,
    ).toBeUndefined();
    const missing = parseTemplate(textLiquid, 'Hi {{ learner.last_name }}', 't');
    expect(missing.plain).toBeDefined();
    expect(() => fill(textLiquid, missing, scope, 'the subject')).toThrow(
      /could not fill the subject: .*learner\.last_name/,
    );
    const block = parseTemplate(textLiquid, '[{% if chrome.progress != "" %}P{% endif %}]', 't');
    expect(fill(textLiquid, block, scope, 't')).toBe('[]');
    expect(fill(textLiquid, block, { chrome: { progress: 'w1' } }, 't')).toBe('[P]');
  });
});
