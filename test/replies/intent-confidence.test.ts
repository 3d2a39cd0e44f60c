/**
 * How sure the reply reader is (#12 §2), which language it names, and the rule that a stop or
 * unsubscribe outside the quoted text always comes back as a stop (clear or probable), unless it
 * is denied. The engine acts on `clear` and asks the learner, with one-tap buttons, about
 * `probable`; a reading that should have been asked about and was not is a consent failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meansUnsubscribe, readIntent } from '../../src/replies/intent.js';
import { visibleText } from '../../src/replies/visible-text.js';
import { languages, loadCorpus } from './natural-corpus.js';

// Monday 1 March 2027, as the natural corpus.
const sentAt = new Date('2027-03-01T09:00:00Z');
const read = (text: string) => readIntent(text, { sentAt, timeZone: 'Europe/London' });

describe('confidence', () => {
  it.each([
    ['Stop', { type: 'stop' }],
    ['Please unsubscribe me', { type: 'stop' }],
    ['Please take me off the mailing list.', { type: 'stop' }],
    ['Pause for 2 weeks please', { type: 'pause', weeks: 2 }],
    ["I'm off sick, could you hold off for a couple of weeks?", { type: 'pause', weeks: 2 }],
    ['Skip this week', { type: 'skip' }],
    ["I'm back from leave, happy to carry on.", { type: 'resume' }],
    ['Hepgor yr wythnos hon plîs', { type: 'skip' }],
    ['Done', { type: 'done' }],
  ])('reads %j as a clear command', (text, intent) => {
    expect(read(text)).toMatchObject({ intent, confidence: 'clear' });
  });

  it.each([
    // hedged
    ['I think I might need to drop out, I just don’t have the time.', { type: 'stop' }],
    ['Maybe pause for now? Things are hectic.', { type: 'pause', weeks: 1 }],
    ['Hmm, should I skip this one?', { type: 'skip' }],
    ['Efallai bydd rhaid i fi roi’r gorau iddi.', { type: 'stop' }],
    // not in the opening sentence
    [
      'Done the sharing bit. Also, could you take me off the mailing list after this week?',
      { type: 'stop' },
    ],
    [
      'Good session on Tuesday, the team liked it. We use SharePoint mostly. Next time I might ' +
        'need to unsubscribe as I am moving roles.',
      { type: 'stop' },
    ],
    // implied: an absence without a request
    ["I'm off sick this week.", { type: 'pause', weeks: 1 }],
    // said as if it did not happen
    ['I was going to drop out, but the last exercise changed my mind.', { type: 'stop' }],
  ])('reads %j as a probable command, to be asked about', (text, intent) => {
    expect(read(text)).toMatchObject({ intent, confidence: 'probable' });
  });

  it.each([
    ["Please don't remove me, I just need a week off.", { type: 'pause', weeks: 1 }],
    ["I don't want to stop, it's been great.", { type: 'reflection' }],
    ['Bitte melden Sie mich nicht ab, ich brauche nur eine Pause.', { type: 'pause', weeks: 1 }],
    ['Dw i ddim eisiau dad-danysgrifio.', { type: 'reflection' }],
  ])('does not read a denied stop %j as a stop', (text, intent) => {
    expect(read(text).intent).toEqual(intent);
  });

  it('tells an unsubscribe from the end of the programme wherever it is said', () => {
    expect(meansUnsubscribe('Done. Please take me off the mailing list too.')).toBe(true);
    expect(meansUnsubscribe('Tynnwch fi oddi ar y rhestr os gwelwch yn dda.')).toBe(true);
    expect(meansUnsubscribe('I would like to drop out of the programme.')).toBe(false);
    expect(meansUnsubscribe("Please don't unsubscribe me.")).toBe(false);
  });
});

describe('reflections that only mention a command', () => {
  it.each([
    'I struggled at first but got there in the end.',
    'The team was ill-prepared for the change.',
    'Year end is always a busy period for us, so this was timely.',
    'I felt a bit lost at first, but the video helped.',
    "Mi sono perso un po' all'inizio, ma poi ho capito.",
    'I learned how to share files safely.',
    'My manager asked me to help her set it up too.',
    'It made me stop and think about who can see our files.',
    "Really useful, I'll carry on using it.",
    'Dysgais i sut i rannu ffolder.',
  ])('reads %j as a reflection', (text) => {
    expect(read(text)).toMatchObject({ intent: { type: 'reflection' }, confidence: 'clear' });
  });

  it.each([
    ['Ich war im Urlaub, deshalb die späte Antwort. Erledigt!', { type: 'done' }],
    ['I was on leave last week so only just saw this - done now though.', { type: 'done' }],
  ])('reads the command after an absence in %j, not the absence', (text, intent) => {
    expect(read(text).intent).toEqual(intent);
  });
});

describe('language', () => {
  it.each([
    ['Wedi gorffen, diolch', 'cy'],
    ['Erledigt, danke!', 'de'],
    ["C'est fait, merci", 'fr'],
    ['Ik ben weer terug van vakantie, we kunnen verder.', 'nl'],
    ['Jeg er tilbage fra ferie, vi kan fortsætte.', 'da'],
    ['Jeg er tilbake fra ferie, vi kan fortsette.', 'no'],
    ["I've finished it, thanks", 'en'],
    // Mixed Welsh and English is answered in Welsh: Welsh is never treated less favourably.
    ['Wedi gorffen - all done, diolch!', 'cy'],
    ["Sorry, dw i'n sâl - can you pause it am bythefnos?", 'cy'],
  ])('%j is in %s', (text, lang) => {
    expect(read(text).language).toBe(lang);
  });

  it('names no language for a reply with no words', () => {
    expect(read('★★★★☆').language).toBeUndefined();
  });
});

describe('a stop or unsubscribe phrase outside the quote is never a reflection', () => {
  const stops = [
    'unsubscribe me',
    'please remove me from the list',
    'take me off the mailing list',
    'I no longer wish to take part',
    'stop sending me these emails',
    'ich möchte mich abmelden',
    'merci de me retirer de la liste',
    'por favor, quitadme de la lista',
    'haal me van de lijst',
    'tynnwch fi oddi ar y rhestr',
    'dad-danysgrifio',
    'poistakaa minut listalta',
  ];
  const fillers = [
    'The session on Tuesday was useful.',
    'We mostly use SharePoint in our team.',
    'Thanks for the reminder.',
    'Diolch am y neges.',
    'Hab die Aufgabe gestern angeschaut.',
  ];

  it('comes back as stop, clear or probable, wherever the phrase stands', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...fillers), { maxLength: 4 }),
        fc.constantFrom(...stops),
        fc.array(fc.constantFrom(...fillers), { maxLength: 4 }),
        (before, stop, after) => {
          const text = [...before, `${stop}.`, ...after].join(' ');
          const reading = read(text);
          expect(reading.intent, text).toEqual({ type: 'stop' });
          expect(['clear', 'probable']).toContain(reading.confidence);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('quoted text never changes the reading (property)', () => {
  const corpus = loadCorpus();
  const replies = languages
    .flatMap((lang) => corpus.get(lang) ?? [])
    .filter((c) => c.kind === 'reply' && c.text.trim() !== '')
    .map((c) => c.text);
  // What our own emails and a learner's earlier replies say, as they come back quoted.
  const quotedLines = fc.oneof(
    fc.constantFrom(
      'STOP',
      'Reply STOP to unsubscribe.',
      'Unsubscribe',
      'Please remove me from this list.',
      'Done / Too hard / Pause a week / Skip this week',
      'Pause for 2 weeks',
      '4/5',
      '★★★★★',
      'Atebwch STOP i ddad-danysgrifio.',
      'Bitte abmelden',
      "I'm back!",
      'How do I share a folder?',
    ),
    fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  );
  const header = 'On Mon, 1 Mar 2027 at 09:00, Digital Gym <progress+t0k3n@gym.example> wrote:';

  it('reads a reply the same with any quote under it, and never takes a stop from the quote', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...replies),
        fc.array(quotedLines, { minLength: 1, maxLength: 8 }),
        (reply, lines) => {
          const mail = `${reply}\n\n${header}\n${lines.map((l) => `> ${l}`).join('\n')}\n`;
          const alone = read(visibleText({ text: reply, html: undefined }));
          const quoted = read(visibleText({ text: mail, html: undefined }));
          expect(quoted.intent, mail).toEqual(alone.intent);
          expect(quoted.confidence, mail).toBe(alone.confidence);
        },
      ),
      { numRuns: 400 },
    );
  });
});
