import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromeText, journeyWords, replyWords } from '../../src/language/chrome-text.js';
import type { LanguagePreference } from '../../src/language/languages.js';
import { templateContext } from '../../src/render/context.js';
import {
  compileProgramme,
  renderProgrammeEnd,
  renderWelcome,
  type CompiledProgramme,
  type RenderedEmail,
} from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { Sequence } from '../../src/sequence/schema.js';

// #15, "never treat Welsh less favourably": the welcome and the programme-end email follow the
// learner's language as the step emails do. Welsh for `cy` (every sentence of ours, the replies
// it asks for in Welsh), both Welsh first for `cy+en`, English as before for `en`.

const root = fileURLToPath(new URL('../..', import.meta.url));
const foundations: Sequence = loadSequenceFiles(['sequences'], root)
  .flatMap((r) => (r.ok ? [r.sequence] : []))
  .find((s) => s.id === 'digital-foundations')!;

const learner = {
  first_name: 'Siân',
  last_name: 'Jones',
  email: 'sian.jones@sir.example.gov.uk',
  role: 'officer',
  organisation: 'Cyngor Sir Enghraifft',
};
const manager = { name: 'Rhys Evans', email: 'rhys.evans@sir.example.gov.uk' };
const links = {
  replyAddress: 'progress+t0k3n@gym.example.gov.uk',
  unsubscribeUrl: 'https://gym.example.gov.uk/u/t0k3n',
};
const reflections = [
  { week: 4, text: 'Darllenais i cyn postio.' },
  { week: 9, text: 'Ysgrifennais bostiad byr.' },
];

const compiled = new Map<LanguagePreference, CompiledProgramme>();
beforeAll(async () => {
  for (const language of ['cy', 'en', 'cy+en'] as const)
    compiled.set(language, await compileProgramme(foundations, { validation: 'strict', language }));
});

function welcome(language: LanguagePreference, who = manager): RenderedEmail {
  return renderWelcome(
    compiled.get(language)!,
    templateContext(foundations, 1, learner, who),
    links,
  );
}

function end(language: LanguagePreference, done = 3): RenderedEmail {
  return renderProgrammeEnd(
    compiled.get(language)!,
    templateContext(foundations, 12, learner, manager),
    { ...links, assignmentsDone: done },
    { reflections },
  );
}

/** Every sentence of ours in English that these two emails can show, and their English replies. */
const en = chromeText('en');
const w = journeyWords('en');
const englishSentences = [
  en.welcomeHowHeading,
  en.welcomeWeekly,
  en.welcomeSlots,
  en.welcomeWeeksHeading,
  en.welcomeSoon,
  en.endOwnWords,
  en.endKeep,
  en.endNextHeading,
  en.endSlot,
  en.endPassOn,
  en.endLastHeading,
  w.welcomePreheader,
  w.welcomeReplies,
  w.endPreheader,
  w.endRating,
  'Welcome',
  'You are starting',
  'Your manager',
  'Your trainer',
  'You have finished',
  'That is the end',
  'You did',
  'assignments',
  'reflections',
  'Tell your manager',
  'A few questions',
  'How useful',
  '"done"',
  '"help"',
  '"too hard"',
  '"pause for 1 week"',
  'Week 4',
  '(week 4)',
  'You are getting this',
  'Unsubscribe',
];

/** What a reader sees, less the marker line, which keeps the English words the reader cuts at. */
function readable(email: RenderedEmail): string {
  const marker = chromeText('cy').marker;
  return [email.subject, email.preheader, email.text, email.html].join('\n').replaceAll(marker, '');
}

/** The words in double quotes that an email asks a learner to reply with. */
function quoted(text: string): string[] {
  return [...text.matchAll(/"([^"\n]{1,40})"/g)].map((m) => m[1]!);
}

describe('the welcome in the learner’s language', () => {
  it('is all Welsh for a Welsh learner, asking for Welsh replies', () => {
    const email = welcome('cy');
    const cy = replyWords('cy');
    expect(email.subject).toBe('Croeso i’r rhaglen Sylfeini digidol');
    expect(email.html).toMatch(/<html[^>]* lang="cy"/);
    expect(email.html).not.toContain('lang="en-GB"');
    expect(email.text).toContain('CROESO, Siân');
    expect(email.text).toContain('Rydych yn dechrau Sylfeini digidol: deuddeg wythnos');
    expect(email.text).toContain('Mae eich rheolwr, Rhys Evans, yn cael crynodeb byr');
    expect(email.text).toContain(
      `"${cy.done}" pan fyddwch wedi gwneud y dasg, "${cy.pauseWeek}" pan fydd y gwaith yn rhy brysur, "${cy.tooHard}" pan fyddwch yn cael trafferth, "${cy.help}" gydag unrhyw gwestiwn.`,
    );
    // Every reply the email quotes is a Welsh word the reader knows (a rating is the same).
    const welsh = new Set(Object.values(cy));
    for (const word of quoted(email.text)) expect(welsh, word).toContain(word);
    // The programme's Welsh: its summary, its intake questions and its week themes.
    expect(email.text).toContain('Pa un sydd agosaf at eich gwaith?');
    expect(email.text).toContain('12. Gwneud arfer ohono');
    expect(email.text).toContain('EICH DEUDDEG WYTHNOS');
    for (const english of [...englishSentences, 'Which is closest', 'Make it a habit'])
      expect(readable(email), english).not.toContain(english);
  });

  it('is in both for a bilingual learner, Welsh first, each part marked with its lang', () => {
    const email = welcome('cy+en');
    expect(email.subject).toBe(
      'Croeso i’r rhaglen Sylfeini digidol / Welcome to Digital foundations',
    );
    expect(email.preheader).toBe(
      `${journeyWords('cy').welcomePreheader} / ${journeyWords('en').welcomePreheader}`,
    );
    const order = (text: string, welsh: string, english: string) => {
      const cyAt = text.indexOf(welsh);
      const enAt = text.indexOf(english);
      expect(cyAt, welsh).toBeGreaterThan(0);
      expect(enAt, english).toBeGreaterThan(cyAt);
    };
    order(email.text, '==== CYMRAEG ====', '==== ENGLISH ====');
    order(email.text, 'CROESO, Siân', 'WELCOME, Siân');
    order(email.text, '"wedi gorffen"', '"done"');
    order(email.text, 'Pa un sydd agosaf at eich gwaith?', 'Which is closest to your work?');
    order(email.text, '12. Gwneud arfer ohono', '12. Make it a habit');
    // The English part is wholly after the Welsh one: no Welsh sentence follows its heading.
    const englishPart = email.text.slice(email.text.indexOf('==== ENGLISH ===='));
    expect(englishPart).not.toContain('Rydych yn dechrau');
    expect(englishPart).toContain('You are starting Digital foundations: twelve weeks');
    // In the HTML: a part per language, Welsh first, the English one where the switch link goes.
    const parts = [...email.html.matchAll(/class="lang-(cy|en)" lang="([^"]+)"( id="en")?/g)];
    expect(parts.map((p) => [p[1], p[2], p[3] ?? ''])).toEqual([
      ['cy', 'cy', ''],
      ['en', 'en-GB', ' id="en"'],
    ]);
    order(email.html, 'Croeso, Siân</h1>', 'Welcome, Siân</h1>');
    expect(email.html).toMatch(/<html[^>]* lang="cy"/);
  });

  it('stays English for an English learner', () => {
    const email = welcome('en');
    expect(email.subject).toBe('Welcome to Digital foundations');
    expect(email.html).toContain('Welcome, Siân</h1>');
    expect(email.text).toContain(
      'Reply to any of our emails: "done" when you have done the assignment, "pause for 1 week" when work is too busy, "too hard" when you are stuck, "help" with any question.',
    );
    expect(email.text).toContain(
      '- Your manager, Rhys Evans, gets a short summary every two weeks of where you are, so they can help you make time for it.',
    );
    expect(email.html).not.toContain('lang="cy"');
    for (const welsh of ['Croeso', 'wedi gorffen', 'CYMRAEG', 'Pa un sydd'])
      expect(email.text + email.html, welsh).not.toContain(welsh);
  });

  it('leaves out the manager line when the learner has no manager, in Welsh too', () => {
    const email = welcome('cy', { name: '', email: '' });
    expect(email.text).not.toContain('Mae eich rheolwr');
    expect(email.text).toContain('Mae eich hyfforddwr yn darllen eich atebion');
  });
});

describe('the programme-end email in the learner’s language', () => {
  it('is all Welsh for a Welsh learner, with the count and the rating question in Welsh', () => {
    const email = end('cy');
    expect(email.subject).toBe('Rydych wedi gorffen Sylfeini digidol');
    expect(email.html).toMatch(/<html[^>]* lang="cy"/);
    expect(email.text).toContain('RYDYCH WEDI GORFFEN, Siân');
    expect(email.text).toContain(
      'Dyna ddiwedd Sylfeini digidol. Tasgau wedi’u gwneud: 3 o 12. Myfyrdodau a anfonwyd gennych: 2.',
    );
    expect(email.text).toContain('(wythnos 4)');
    expect(email.html).toContain('Wythnos 9</span>');
    expect(email.text).toContain('Dywedwch wrth eich rheolwr, Rhys Evans, beth yw’r un peth');
    expect(email.text).toContain(`sgôr fel "${replyWords('cy').rating}"`);
    for (const english of englishSentences) expect(readable(email), english).not.toContain(english);
  });

  it('says so in Welsh when the learner told us of no assignment done', () => {
    const email = end('cy', 0);
    expect(email.text).toContain(
      'Ddywedoch chi ddim wrthym eich bod wedi gwneud unrhyw un o’r tasgau (12 i gyd).',
    );
  });

  it('is in both for a bilingual learner, Welsh first, each part marked with its lang', () => {
    const email = end('cy+en');
    expect(email.subject).toBe(
      'Rydych wedi gorffen Sylfeini digidol / You have finished Digital foundations',
    );
    const cyAt = email.text.indexOf('Tasgau wedi’u gwneud: 3 o 12.');
    const enAt = email.text.indexOf('You did 3 of the 12 assignments and sent 2 reflections.');
    expect(cyAt).toBeGreaterThan(0);
    expect(enAt).toBeGreaterThan(cyAt);
    const parts = [...email.html.matchAll(/class="lang-(cy|en)" lang="([^"]+)"/g)].map((p) => p[2]);
    expect(parts).toEqual(['cy', 'en-GB']);
    expect(email.html.indexOf('Un ateb olaf')).toBeLessThan(email.html.indexOf('One last reply'));
  });

  it('stays English for an English learner', () => {
    const email = end('en', 1);
    expect(email.subject).toBe('You have finished Digital foundations');
    expect(email.text).toContain(
      'That is the end of Digital foundations. You did 1 of the 12 assignments and sent 2 reflections.',
    );
    expect(email.text).toContain('Reply with a score such as "4/5"');
    expect(email.html).not.toContain('lang="cy"');
    expect(email.text).not.toContain('Dyna ddiwedd');
  });
});
