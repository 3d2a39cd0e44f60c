import { beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgementWords,
  chromeText,
  replyWords,
  type AcknowledgementWordsKind,
} from '../../src/language/chrome-text.js';
import { languages } from '../../src/language/languages.js';
import { actionRepliesIn } from '../../src/render/chrome.js';
import {
  compileLayouts,
  renderAcknowledgement,
  type CompiledLayouts,
} from '../../src/render/index.js';
import { readIntent } from '../../src/replies/intent.js';

// The words our emails ask for must be words the reader reads as the intent they stand for, in
// the email's language (#15): a Welsh email that asked for "done" would treat Welsh as second.
const expected: Record<keyof ReturnType<typeof replyWords>, Record<string, unknown>> = {
  done: { type: 'done' },
  pauseWeek: { type: 'pause', weeks: 1 },
  pauseFortnight: { type: 'pause', weeks: 2 },
  pauseUntil: { type: 'pause' },
  resume: { type: 'resume' },
  tooHard: { type: 'too_hard' },
  skip: { type: 'skip' },
  stop: { type: 'stop' },
  help: { type: 'help' },
  unsubscribe: { type: 'stop' },
  rating: { type: 'rating', rating: 4 },
};

const read = (text: string) =>
  readIntent(text, { sentAt: new Date('2027-01-11T09:00:00Z'), timeZone: 'Europe/London' });

describe('the reply words each language asks for (#15)', () => {
  for (const language of languages) {
    for (const [key, intent] of Object.entries(expected)) {
      it(`${language}: "${replyWords(language)[key as keyof typeof expected]}" reads as ${String(intent.type)}, clearly`, () => {
        const reading = read(replyWords(language)[key as keyof typeof expected]);
        expect(reading.intent).toMatchObject(intent);
        expect(reading.confidence).toBe('clear');
        // Welsh is read as Welsh, so the answer is Welsh. A bare English command ("done") may be
        // read as no language in particular, which answers in the learner's own.
        if (language === 'cy' && key !== 'rating') expect(reading.language).toBe('cy');
        else expect([language, undefined]).toContain(reading.language);
      });
    }
  }

  it('the one-tap buttons of a Welsh or bilingual email send the Welsh words; an English one the English', () => {
    expect(actionRepliesIn('cy')).toEqual({
      done: 'wedi gorffen',
      pause: 'saib am wythnos',
      tooHard: 'rhy anodd',
      stop: 'stopio',
      unsubscribe: 'dad-danysgrifio',
    });
    expect(actionRepliesIn('cy+en').done).toBe('wedi gorffen');
    expect(actionRepliesIn('en').done).toBe('done');
    for (const body of Object.values(actionRepliesIn('cy'))) expect(read(body).language).toBe('cy');
  });

  it('Welsh chrome quotes no English reply word, and quotes the Welsh ones', () => {
    const welsh = Object.values(chromeText('cy')).join('\n');
    for (const english of Object.values(replyWords('en')).filter((w) => w !== '4/5'))
      expect(welsh).not.toContain(`"${english}"`);
    for (const word of ['wedi gorffen', 'saib am wythnos', 'rhy anodd', 'cymorth', 'ailddechrau'])
      expect(welsh).toContain(`"${word}"`);
  });
});

const kinds: [AcknowledgementWordsKind, Record<string, string | number>][] = [
  ['done', { week: 3, done: 3, total: 12 }],
  ['too_hard', { week: 3 }],
  ['help', {}],
  ['rating', { rating: 4 }],
  ['reflection', { week: 3 }],
  ['pause', { until: '2027-01-25' }],
  ['resume', {}],
  ['rejoin', {}],
  ['skip', { week: 3 }],
  ['stop', {}],
  ['ended', { action: 'pause', status: 'completed' }],
  ['question', { action: 'pause', weeks: 2 }],
  ['not-changed', { week: 3 }],
  ['already-answered', {}],
  ['intake', { answers: '1: Policy' }],
];

describe('acknowledgement wording (#15)', () => {
  it('has every kind in Welsh and in English, with the facts in it', () => {
    for (const [kind, facts] of kinds) {
      const cy = acknowledgementWords('cy', kind, facts);
      const en = acknowledgementWords('en', kind, facts);
      expect(cy.message, kind).not.toBe(en.message);
      expect(cy.message.length, kind).toBeGreaterThan(10);
      expect(cy.detail === undefined, kind).toBe(en.detail === undefined);
      if (kind !== 'not-changed')
        for (const value of Object.values(facts).filter((v) => typeof v === 'number')) {
          expect(en.message, kind).toContain(String(value));
          expect(cy.message, kind).toContain(String(value));
        }
    }
    expect(acknowledgementWords('cy', 'pause', { until: '2027-01-25' }).message).toBe(
      'Saib tan Dydd Llun 25 Ionawr.',
    );
    expect(acknowledgementWords('en', 'pause', { until: '2027-01-25' }).message).toBe(
      'Paused until Monday 25 January.',
    );
    expect(acknowledgementWords('cy', 'question', { action: 'pause', weeks: 2 }).message).toBe(
      'Ydych chi’n golygu: saib am 2 wythnos?',
    );
    // "help" lists what one can reply: in Welsh, the Welsh words.
    expect(acknowledgementWords('cy', 'help').message).toContain('wedi gorffen, rhy anodd');
  });

  it('confirms intake answers, alone or after the command that came with them, in each language', () => {
    const answers = '1: Policy, 2: 3';
    expect(acknowledgementWords('en', 'intake', { answers }).message).toBe(
      'Thank you: we recorded your answers: 1: Policy, 2: 3.',
    );
    expect(acknowledgementWords('cy', 'intake', { answers }).message).toContain(
      'cofnodi eich atebion: 1: Policy, 2: 3',
    );
    const pause = { until: '2027-01-25', answers };
    expect(acknowledgementWords('en', 'pause', pause).detail).toMatch(
      /Reply "resume" to come back sooner\. We also recorded your answers: 1: Policy, 2: 3\.$/,
    );
    expect(acknowledgementWords('cy', 'pause', pause).detail).toMatch(
      /Rydym hefyd wedi cofnodi eich atebion: 1: Policy, 2: 3\.$/,
    );
    expect(acknowledgementWords('en', 'pause', { until: '2027-01-25' }).detail).not.toContain(
      'answers',
    );
  });
});

describe('the acknowledgement email in the reply’s language (#15)', () => {
  let layouts: CompiledLayouts;
  beforeAll(async () => {
    layouts = await compileLayouts({ validation: 'strict' });
  });
  const links = { replyAddress: 'progress+t0k3n@gym.example.gov.uk' };
  const done = {
    replyToSubject: 'Re: Wythnos 3: sain',
    firstName: 'Nia',
    message: 'Logged: week 3 done. That’s 3 of 12.',
    kind: 'done' as const,
    facts: { week: 3, done: 3, total: 12 },
  };

  it('answers Welsh in Welsh: its words, its lang, its buttons', () => {
    const ack = renderAcknowledgement(layouts, { ...done, language: 'cy' }, links);
    expect(ack.html).toMatch(/<html[^>]* lang="cy"/);
    expect(ack.html).toContain('<div lang="cy">');
    expect(ack.text).toContain('Diolch, Nia.');
    expect(ack.text).toContain('Wedi’i gofnodi: wythnos 3 wedi’i gwneud. Dyna 3 o 12.');
    expect(ack.text).not.toContain('Logged');
    expect(ack.preheader).toBe('Wedi’i gofnodi: wythnos 3 wedi’i gwneud. Dyna 3 o 12.');
    expect(ack.text).toContain('"wedi gorffen"');
    expect(ack.html).toContain('body=stopio');
  });

  it('answers a cy+en learner whose reply language is unclear in both, Welsh first', () => {
    const ack = renderAcknowledgement(layouts, { ...done, language: 'cy+en' }, links);
    const welsh = ack.html.indexOf('<div lang="cy">');
    const english = ack.html.indexOf('<div lang="en-GB">');
    expect(welsh).toBeGreaterThan(0);
    expect(english).toBeGreaterThan(welsh);
    expect(ack.text.indexOf('Dyna 3 o 12')).toBeLessThan(ack.text.indexOf("That's 3 of 12"));
  });

  it('words a question and its buttons in Welsh', () => {
    const ack = renderAcknowledgement(
      layouts,
      {
        replyToSubject: 'Re: Wythnos 3',
        firstName: 'Nia',
        message: 'Did you mean: pause for 2 weeks?',
        kind: 'question',
        facts: { action: 'pause', weeks: 2, proposal: 'pause for 2 weeks' },
        language: 'cy',
        question: {
          proposal: 'pause for 2 weeks',
          yes: { label: 'Yes, pause', address: 'progress+y-abc@gym.example.gov.uk' },
          no: { label: 'No, it was a note', address: 'progress+n-abc@gym.example.gov.uk' },
        },
      },
      links,
    );
    expect(ack.text).toContain('Ydych chi’n golygu: saib am 2 wythnos?');
    expect(ack.text).toContain('Ie, saib: mailto:progress+y-abc@gym.example.gov.uk');
    expect(ack.text).toContain('Na, nodyn oedd e: mailto:progress+n-abc@gym.example.gov.uk');
    expect(ack.text).not.toContain('Yes, pause');
  });

  it('keeps the English words of a payload stored before it had a kind', () => {
    const ack = renderAcknowledgement(
      layouts,
      { replyToSubject: 'Re: Week 3', firstName: '', message: 'Logged: done for week 3.' },
      links,
    );
    expect(ack.text).toContain('Logged: done for week 3.');
  });
});
