import { beforeAll, describe, expect, it } from 'vitest';
import { GymError } from '../../src/errors.js';
import {
  compileLayouts,
  compileProgramme,
  layoutNames,
  readLayoutSources,
  type CompiledEmail,
  type LayoutSources,
} from '../../src/render/index.js';
import { sampleSequence } from '../fixtures/sample-sequence.js';

let sources: LayoutSources;

beforeAll(async () => {
  sources = await readLayoutSources();
});

describe('layouts', () => {
  it('ships an MJML layout and a plain-text twin for every kind of email', () => {
    for (const name of layoutNames) {
      // The language is the recipient's (#15): en-GB, cy, or cy for a bilingual email.
      expect(sources[`${name}.mjml`], `${name}.mjml`).toContain('<mjml lang="[[ lang ]]"');
      expect(sources[`${name}.txt`], `${name}.txt`).toContain(
        "[% include 'partials/footer.txt' %]",
      );
    }
  });

  it('compiles every layout under MJML strict validation', async () => {
    const programme = await compileProgramme(sampleSequence(), {
      layouts: sources,
      validation: 'strict',
    });
    const layouts = await compileLayouts({ layouts: sources, validation: 'strict' });
    const emails: CompiledEmail[] = [
      programme.welcome,
      programme.end,
      layouts.acknowledgement,
      layouts.managerDigest,
      layouts.managerIntroduction,
      ...[...programme.weeks.values()].flatMap((w) =>
        [...w.steps.values()].flatMap((s) => (s.kind === 'email' ? [s.email] : [])),
      ),
    ];
    expect(new Set(emails.map((e) => e.layout))).toEqual(new Set(layoutNames));
    expect([...programme.warnings, ...layouts.warnings]).toEqual([]);
    // 12 weeks of kickoff + nudge emails; the 12 invites are not emails.
    expect(emails.filter((e) => e.layout === 'learner-step')).toHaveLength(12);
    expect(emails.filter((e) => e.layout === 'nudge')).toHaveLength(12);
  });

  it('rejects an invalid layout under strict validation, naming the file', async () => {
    const broken = {
      ...sources,
      'acknowledgement.mjml': sources['acknowledgement.mjml']!.replace(
        '<mj-text>',
        '<mj-text colour="red">',
      ),
    };
    const error = await compileLayouts({ layouts: broken, validation: 'strict' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GymError);
    expect((error as GymError).code).toBe('TEMPLATE_INVALID');
    expect((error as GymError).message).toMatch(
      /^acknowledgement: emails\/acknowledgement\.mjml is not valid MJML .*Attribute colour is illegal/,
    );
  });

  it('compiles an invalid layout under soft validation and reports the problem as a warning', async () => {
    const broken = {
      ...sources,
      'acknowledgement.mjml': sources['acknowledgement.mjml']!.replace(
        '<mj-text>',
        '<mj-text colour="red">',
      ),
    };
    const layouts = await compileLayouts({ layouts: broken, validation: 'soft' });
    expect(layouts.warnings).toHaveLength(1);
    expect(layouts.warnings[0]).toMatch(/Attribute colour is illegal/);
  });

  it('names a missing layout file', async () => {
    const { ['nudge.txt']: _missing, ...rest } = sources;
    await expect(compileProgramme(sampleSequence(), { layouts: rest })).rejects.toThrow(
      'emails/nudge.txt is missing; it is needed for programme "plain-english" week 1 step "nudge"',
    );
  });
});
