import mjml2html from 'mjml';
import { describe, expect, it } from 'vitest';
import { measureRendering } from '../../bench/render.js';
import { compileProgramme } from '../../src/render/index.js';
import { sampleSequence } from '../fixtures/sample-sequence.js';

// `npm run bench` and `npm run measure:render` compare the fill with mjml2html on the step's own
// MJML; when programmes began to be compiled through stored skeletons that MJML went missing and
// the bench died at its last step (#17).
describe('what the render measurements compare against', () => {
  it('keeps each step email’s MJML only when asked, and it is the MJML of that email', async () => {
    const sequence = sampleSequence();
    const plain = await compileProgramme(sequence, { validation: 'soft' });
    const kept = await compileProgramme(sequence, { validation: 'soft', keepMjml: true });
    const stepOf = (p: typeof plain) => p.weeks.get(1)?.steps.get('kickoff');
    const plainStep = stepOf(plain);
    const keptStep = stepOf(kept);
    if (plainStep?.kind !== 'email' || keptStep?.kind !== 'email') throw new Error('no kickoff');
    expect(plainStep.email.mjml).toBe('');
    expect(keptStep.email.mjml).toMatch(/^<mjml/);
    // The step's own words are in it, its Liquid left for the fill, and MJML compiles it.
    expect(keptStep.email.mjml).toContain('Rewrite one real email (week 1)');
    expect(keptStep.email.mjml).toContain('{{ learner.first_name }}');
    const { html } = await mjml2html(keptStep.email.mjml, { validationLevel: 'soft', fonts: {} });
    expect(html).toContain('Rewrite one real email (week 1)');
  });

  it('runs the bench’s render measurement to the end on a programme', async () => {
    const result = await measureRendering(sampleSequence(), 2);
    expect(result.mjmlRuns).toBe(2);
    for (const figure of [result.fillMicros, result.mjmlMicros, result.composeEmailMicros])
      expect(figure).toBeGreaterThan(0);
    expect(result.emailKiB).toBeGreaterThan(result.htmlKiB / 2);
  }, 60_000);
});
