import { beforeAll, describe, expect, it } from 'vitest';
import { flagsOf, type TeamMember } from '../../src/engine/digests.js';
import {
  compileLayouts,
  renderManagerDigest,
  renderManagerIntroduction,
  type CompiledLayouts,
} from '../../src/render/index.js';
import { team } from '../render/digest-fixtures.js';

// #15: a Welsh-preferring manager's introduction and digest are in Welsh, every line of them,
// and a bilingual manager's in both, Welsh first.

let layouts: CompiledLayouts;
beforeAll(async () => {
  layouts = await compileLayouts({ validation: 'strict' });
});
const links = {
  replyAddress: 'digest+m1@gym.example.gov.uk',
  unsubscribeUrl: 'https://gym.example.gov.uk/u/m1',
};

const intro = {
  manager: { firstName: 'Rhys' },
  learners: [
    { firstName: 'Siân', lastName: 'Jones', programmeTitle: 'Sylfeini digidol' },
    { firstName: 'Elin', lastName: 'Hughes', programmeTitle: 'Sylfeini digidol' },
  ],
  // Monday 4 January 2027, 08:00 in Cardiff.
  firstDigest: { at: new Date('2027-01-04T08:00:00Z'), zone: 'Europe/London' },
};

describe('the manager introduction in the manager’s language', () => {
  it('is all Welsh for a Welsh-preferring manager', () => {
    const email = renderManagerIntroduction(layouts, { ...intro, language: 'cy' }, links);
    expect(email.subject).toBe('Mae eich tîm yn dechrau Digital Gym');
    expect(email.html).toMatch(/<html[^>]* lang="cy"/);
    expect(email.text).toContain('Helo Rhys,');
    expect(email.text).toContain('Pobl rydych yn eu rheoli sy’n dechrau rhaglen Digital Gym: 2.');
    expect(email.text).toContain('y cyntaf ar Dydd Llun 4 Ionawr');
    expect(email.text).toContain('Neilltuwch eu 30 munud o ymarfer bob wythnos.');
    expect(email.text).toContain('Dad-danysgrifio');
    for (const english of [
      'Hello',
      'What they will do',
      'WHAT THEY WILL DO',
      'Protect their',
      'people you manage',
      'A short email',
      'For managers',
      'You are getting this',
    ])
      expect(email.text + email.html, english).not.toContain(english);
  });

  it('is in both for a bilingual manager, Welsh first', () => {
    const email = renderManagerIntroduction(layouts, { ...intro, language: 'cy+en' }, links);
    expect(email.subject).toBe(
      'Mae eich tîm yn dechrau Digital Gym / Your team is starting Digital Gym',
    );
    const welsh = email.text.indexOf('Neilltuwch eu 30 munud');
    const english = email.text.indexOf('Protect their 30 minutes');
    expect(welsh).toBeGreaterThan(0);
    expect(english).toBeGreaterThan(welsh);
    expect(email.text).toContain('the first on Monday 4 January');
    expect(email.html).toContain('<span lang="cy">');
  });

  it('stays English for an English one', () => {
    const email = renderManagerIntroduction(layouts, intro, links);
    expect(email.subject).toBe('Your team is starting Digital Gym');
    expect(email.text).toContain(
      '2 people you manage are starting a Digital Gym programme: twelve weeks of small, practical steps in their inbox.',
    );
    expect(email.text).not.toContain('Helo');
  });
});

describe('the digest’s stopped and paused lines in the manager’s language', () => {
  const member = (pausedUntil: Date): TeamMember =>
    ({
      stuckSince: null,
      pausedUntil,
      weeksDue: 3,
      weeksDone: 3,
      lastReplyAt: null,
      firstSentAt: null,
    }) as unknown as TeamMember;
  const now = new Date('2027-01-18T12:00:00Z');
  const until = new Date('2027-01-25T00:00:00Z');

  const digestWith = (language: 'cy' | 'cy+en') => {
    const digest = team(2);
    digest.learners[0]!.flags = flagsOf(member(until), now, 'Europe/London', language);
    return renderManagerDigest(
      layouts,
      { ...digest, stopped: [{ firstName: 'Gareth', lastName: 'Morgan', week: 3 }] },
      links,
      { language },
    );
  };

  it('are Welsh for a Welsh-preferring manager', () => {
    const email = digestWith('cy');
    expect(email.text).toContain('Daeth rhaglen Gareth Morgan i ben yn wythnos 3.');
    expect(email.text).toContain('Does dim byd arall yn cael ei anfon atyn nhw.');
    expect(email.text).toContain('Wedi oedi tan 25 Ionawr');
    expect(email.text).not.toMatch(/stopped in week|Their programme has ended|Paused|until/);
  });

  it('are in both for a bilingual manager, each language’s line whole, Welsh first', () => {
    const email = digestWith('cy+en');
    expect(email.text).toContain(
      'Daeth rhaglen Gareth Morgan i ben yn wythnos 3. / Gareth Morgan stopped in week 3.',
    );
    expect(email.text).toContain('Wedi oedi tan 25 Ionawr / Paused until 25 January');
  });
});
