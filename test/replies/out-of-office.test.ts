import { describe, expect, it } from 'vitest';
import { awayWording, classify, foldedUnlikeLowerCase } from '../../src/replies/classify.js';
import { parseMail } from '../../src/replies/parse-mail.js';

/**
 * Out-of-office by subject (#16): a robot that sends no RFC 3834 header and no "Automatic reply"
 * subject was read as a reflection and acknowledged. It is recognised by its subject tag or its
 * wording, in every language we claim; a learner who mentions being away is still a person.
 */

async function kindOf(subject: string, body: string, html = false) {
  const raw = Buffer.from(
    [
      'From: Ana Lopez <ana.lopez@example.gov.uk>',
      'To: progress+token@gym.example.gov.uk',
      `Subject: =?utf-8?B?${Buffer.from(subject).toString('base64')}?=`,
      'Message-ID: <ooo@example.gov.uk>',
      'Date: Mon, 04 Jan 2027 11:00:00 +0000',
      `Content-Type: text/${html ? 'html' : 'plain'}; charset=utf-8`,
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(body).toString('base64'),
      '',
    ].join('\r\n'),
  );
  return classify(await parseMail(raw));
}

const bodies: readonly (readonly [string, string])[] = [
  [
    'en',
    'Thank you for your email. I am currently out of the office with limited access to email. I will respond on my return on 11 January.',
  ],
  [
    'fr',
    'Bonjour, je suis absente jusqu’au 11 janvier. Je traiterai votre message à mon retour. En cas d’urgence, veuillez contacter Marie.',
  ],
  [
    'de',
    'Vielen Dank für Ihre Nachricht. Ich bin bis zum 11. Januar nicht im Büro. In dringenden Fällen wenden Sie sich bitte an Frau Weber.',
  ],
  [
    'es',
    'Gracias por su mensaje. Estoy fuera de la oficina hasta el 11 de enero. Responderé a mi regreso.',
  ],
  [
    'it',
    'Grazie per il messaggio. Sono fuori ufficio fino all’11 gennaio. Risponderò al mio rientro.',
  ],
  ['pt', 'Obrigada pela mensagem. Estou de férias até 11 de janeiro. Responderei quando voltar.'],
  [
    'nl',
    'Bedankt voor uw bericht. Ik ben tot 11 januari afwezig. Voor dringende zaken kunt u contact opnemen met Jan; neem contact op met de servicedesk.',
  ],
  [
    'sv',
    'Tack för ditt mejl. Jag är på semester till den 11 januari. Vid brådskande ärenden, kontakta Eva.',
  ],
  ['da', 'Tak for din mail. Jeg er på ferie indtil 11. januar. I hastende tilfælde kontakt Lars.'],
  [
    'no',
    'Takk for e-posten. Jeg er på ferie til 11. januar. Ved hastesaker, kontakt Kari. Jeg svarer når jeg er tilbake.',
  ],
  [
    'fi',
    'Kiitos viestistäsi. Olen lomalla 11.1. asti. Kiireellisissä asioissa ota yhteyttä Mattiin.',
  ],
];

const subjects: readonly (readonly [string, string])[] = [
  ['en', 'Re: Week 1: listen before you talk [Out of Office]'],
  ['en', 'Out of office: Re: Week 1'],
  ['fr', 'Absente : Re: Semaine 1'],
  ['de', 'Abwesend: Re: Woche 1'],
  ['es', 'Ausente: Re: Semana 1'],
  ['it', 'Fuori sede: Re: Settimana 1'],
  ['pt', 'Fora do escritório: Re: Semana 1'],
  ['nl', 'Afwezig: Re: Week 1'],
  ['sv', 'Frånvarande: Re: Vecka 1'],
  ['da', 'Fraværende: Re: Uge 1'],
  ['no', 'Fravær: Re: Uke 1'],
  ['fi', 'Poissa: Re: Viikko 1'],
];

describe('Out-of-office by subject', () => {
  it.each(subjects)('Out-of-office by subject (%s): %s', async (_, subject) => {
    const result = await kindOf(subject, 'Back on Monday.');
    expect(result.kind, result.evidence).toBe('auto_reply');
  });

  it.each(bodies)('Out-of-office by wording (%s), under the reply subject', async (_, body) => {
    const result = await kindOf('Re: Week 1: listen before you talk', body);
    expect(result.kind).toBe('auto_reply');
    expect(result.evidence).toMatch(/^out-of-office wording/);
  });

  it('Out-of-office by wording in an HTML-only message', async () => {
    const result = await kindOf(
      'Re: Week 1',
      `<p>I'm out of the office until Monday.</p><p>For urgent matters please contact Sam.</p>`,
      true,
    );
    expect(result.kind).toBe('auto_reply');
  });

  it.each([
    'Done! I am on leave next week, so I did it early.',
    "I was out of the office last week, but it's done now.",
    'Too hard. I am away a lot and cannot find the time.',
    'Absent-minded me: done, finally.',
    'Please contact my manager about the slot; done otherwise.',
  ])('a learner who mentions being away is still a person: %s', async (body) => {
    expect((await kindOf('Re: Week 1', body)).kind).toBe('reply');
  });

  it.each([
    'I AM OUT OF THE OFFICE UNTIL MONDAY. FOR URGENT MATTERS PLEASE CONTACT SAM.',
    // "ſ" is "s" to the patterns' `iu` flags, not to toLowerCase (see foldedUnlikeLowerCase).
    'I am on ſick leave until Monday. For urgent matters please contact Sam.',
    // The Kelvin sign is "k" to both.
    'I am away from my des\u212A until Monday. For urgent matters please contact Sam.',
  ])('Out-of-office by wording in any case and with odd letters: %s', async (body) => {
    const result = await kindOf('Re: Week 1', body);
    expect(result.kind, result.evidence).toBe('auto_reply');
  });
});

describe('the lower-cased pass over the statements of absence', () => {
  // The patterns run once, without `i`, on lower-cased text before they run as they are (#17):
  // every character must be read there as the `iu` flags read it, but those set aside.
  const sources = awayWording.map(([away]) => away.source);
  // Escapes (\b, \s, \.) are not literal characters.
  const literals = new Set(sources.flatMap((source) => [...source.replace(/\\./g, '')]));
  const syntax = new Set([...'()|?:{},.+*']);
  const atoms = [...literals].filter((c) => !syntax.has(c) && c !== ' ' && !/\d/.test(c));

  it('uses patterns this reasoning holds for', () => {
    for (const [away] of awayWording) expect(away.flags).toBe('iu');
    // No character class or property escape: each letter is written out, in lower case.
    for (const source of sources) expect(source).not.toMatch(/\[|\\[pPwWkuxc]/);
    for (const c of atoms) expect(c.toLowerCase()).toBe(c);
    for (const a of atoms)
      for (const b of atoms) if (a !== b) expect(new RegExp(`^${a}$`, 'iu').test(b)).toBe(false);
  });

  it('reads every other code point as the iu flags do', () => {
    const anyAtom = new RegExp(`^[${atoms.join('')}]$`, 'iu');
    const differing: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      const lower = c.toLowerCase();
      const alike =
        [...lower].length === 1 &&
        /\w/iu.test(c) === /\w/u.test(lower) &&
        /\s/u.test(c) === /\s/u.test(lower) &&
        /./u.test(c) === /./u.test(lower) &&
        (!anyAtom.test(c) || (atoms.includes(lower) && new RegExp(`^${lower}$`, 'iu').test(c)));
      if (!alike) differing.push(c);
    }
    expect(differing.filter((c) => !foldedUnlikeLowerCase.test(c))).toEqual([]);
  });
});
