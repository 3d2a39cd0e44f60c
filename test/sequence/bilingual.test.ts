import { describe, expect, it } from 'vitest';
import { loadSequence } from '../../src/sequence/loader.js';
import { sequenceIn } from '../../src/sequence/schema.js';
import { runGym } from '../helpers/cli.js';
import { fixtures, loadFixtures, problemLines } from './helpers.js';

/** The bilingual format (#15): every text a map by language, checked by gym validate. */
describe('a bilingual programme', () => {
  it('loads with each language’s texts, English as the base', () => {
    const [result] = loadFixtures('bilingual/bilingual.yaml');
    expect(result?.ok).toBe(true);
    if (!result?.ok) return;
    const { sequence } = result;
    expect(sequence.languages).toEqual(['cy', 'en']);
    expect(sequence.title).toBe('Digital basics');
    expect(sequenceIn(sequence, 'cy').title).toBe('Sylfeini digidol');
    expect(sequenceIn(sequence, 'cy').weeks[2]!.steps[0]!.email!.subject).toBe(
      'Wythnos 3: darllen cyn postio',
    );
    expect(sequenceIn(sequence, 'en').weeks[2]!.steps[1]!.invite!.location).toBe('At your desk');
    // Welsh nobody has reviewed is worth saying, but not wrong.
    expect(result.notices.map((n) => `${n.file}:${n.line}:${n.column} ${n.message}`)).toEqual([
      'bilingual/bilingual.yaml:4:14 the Welsh (cy) text has not been reviewed: a Welsh speaker should review it before use, then give their name in reviewed_by',
    ]);
  });

  it('reports a step missing its Welsh text, and a text not written by language, as file:line:col', () => {
    expect(problemLines('bilingual-bad/missing-welsh.yaml')).toBe(
      [
        'bilingual-bad/missing-welsh.yaml:98:20 week 3: step "kickoff": email.subject: missing its Welsh (cy) text: add cy: beside en:',
        'bilingual-bad/missing-welsh.yaml:278:12 week 8: theme: expected one text per language (cy: and en:), because the programme declares languages: [cy, en]',
      ].join('\n'),
    );
  });

  it('notices a translation much shorter than its original, and template variables that differ', () => {
    const [result] = loadFixtures('bilingual-bad/missing-welsh.yaml');
    expect(result?.ok).toBe(false);
    expect(
      (result?.ok === false ? (result.notices ?? []) : []).map(
        (n) => `${n.line}:${n.column} ${n.message}`,
      ),
    ).toEqual([
      '141:17 week 4: step "kickoff": email.tip.cy: the Welsh (cy) text is much shorter than the English (en) (19 characters against 150): is a paragraph missing?',
      '143:17 week 4: step "kickoff": email.tip.en: the languages use different template variables: {{ learner.first_name }} is in en only; {{ programme.title }} is in en only',
    ]);
  });

  it('refuses a language map in a programme that declares no languages, and an unknown language', () => {
    const text = [
      'id: x',
      'title: { cy: Teitl, en: Title }',
      'audience: { default: true }',
      'weeks: []',
    ].join('\n');
    const result = loadSequence('x.yaml', text, () => undefined);
    expect(result.ok).toBe(false);
    expect(
      result.ok ? [] : result.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    ).toContain(
      '2:8 title: is written by language, but the programme declares no languages: add "languages: [cy, en]" at the top of the file',
    );
    const french = loadSequence(
      'y.yaml',
      ['id: y', 'languages: [cy, en]', 'title: { cy: Teitl, en: Title, fr: Titre }'].join('\n'),
      () => undefined,
    );
    expect(
      french.ok ? [] : french.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    ).toContain('3:32 title.fr: "fr" is not one of the programme\'s languages (cy, en)');
  });

  it('gym validate prints the missing Welsh with file:line:col and fails', async () => {
    const result = await runGym(['validate', `${fixtures}/bilingual-bad/missing-welsh.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /missing-welsh\.yaml:98:20 week 3: step "kickoff": email\.subject: missing its Welsh \(cy\) text/,
    );
    expect(result.stdout).toMatch(/missing-welsh\.yaml:141:17 notice: .*much shorter/);
  });
});
