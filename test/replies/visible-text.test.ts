import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readMessage } from '../../src/replies/read.js';
import { requiredRunOf, visibleText } from '../../src/replies/visible-text.js';
import { normalise, readFixture, scoredCases } from '../inbound/corpus.js';

describe('visibleText on the email-reply-parser corpus', () => {
  it('matches at least 95% of the cases with a derivable visible text', () => {
    const { scored, notScored } = scoredCases();
    const failures = scored
      .filter(
        ({ body, expected }) => normalise(visibleText({ text: body })) !== normalise(expected),
      )
      .map(({ name }) => name);
    const passed = scored.length - failures.length;
    const rate = (100 * passed) / scored.length;
    // A one-line summary for the CI log; the failures' names say where to look.
    // eslint-disable-next-line no-console
    console.log(
      `visible text: ${passed}/${scored.length} corpus cases (${rate.toFixed(1)}%), ` +
        `${notScored.length} not scored; failing: ${failures.join(', ') || 'none'}`,
    );
    expect(scored.length).toBeGreaterThan(60);
    expect(rate).toBeGreaterThanOrEqual(95);
  });

  it('never takes the learner sentences of the tricky cases for history', () => {
    const body = readFixture('fixtures/email_tricky_1_on_false_positive.txt');
    expect(normalise(visibleText({ text: body }))).toBe(normalise(body));
    const from = visibleText({ text: readFixture('fixtures/email_tricky_4_from_in_body.txt') });
    expect(from).toContain('This is the actual message content.');
    const sentFrom = visibleText({
      text: readFixture('fixtures/email_tricky_8_sent_from_in_content.txt'),
    });
    expect(sentFrom).toContain('All messages are sent from the main server.');
  });
});

const reply = 'Done! I rewrote the press release in plain English.';

/** Our reply above each client's quoting, which must all come out as `reply`. */
const clientStyles: [string, string][] = [
  [
    'Gmail, header wrapped over two lines',
    `${reply}\n\nOn Mon, 4 Jan 2027 at 09:00, Digital Gym <\nprogress+t0k3n@gym.example.gov.uk> wrote:\n\n> Week 3: write a press release\n> Reply above this line\n`,
  ],
  [
    'Gmail, header wrapped after the name',
    `${reply}\r\n\r\nOn Mon, 4 Jan 2027 at 09:00, Digital Gym\r\n<progress@gym.example> wrote:\r\n> Week 3\r\n`,
  ],
  [
    'Outlook desktop header block',
    `${reply}\n\nFrom: Digital Gym <progress@gym.example>\nSent: Monday, January 4, 2027 9:00 AM\nTo: Jane Learner <jane@example.com>\nSubject: Week 3: write a press release\n\nWeek 3\n`,
  ],
  [
    'Outlook header block after the underscore rule',
    `${reply}\n\n________________________________\nFrom: Digital Gym <progress@gym.example>\nSent: 04 January 2027 09:00\nTo: Jane Learner\nSubject: Week 3\n\nWeek 3\n`,
  ],
  [
    'Outlook converted to plain text with bold labels',
    `${reply}\n\n*From:* Digital Gym [mailto:progress@gym.example]\n*Sent:* Monday, January 4, 2027 9:00 AM\n*To:* jane@example.com\n*Subject:* Week 3\n\nWeek 3\n`,
  ],
  [
    'Outlook -----Original Message-----',
    `${reply}\n\n-----Original Message-----\nFrom: Digital Gym [mailto:progress@gym.example]\nSent: Monday, January 4, 2027 9:00 AM\n\nWeek 3\n`,
  ],
  [
    'Apple Mail',
    `${reply}\n\n> On 4 Jan 2027, at 09:00, Digital Gym <progress@gym.example> wrote:\n> \n> Week 3\n`,
  ],
  [
    'Apple Mail, header not quoted',
    `${reply}\n\nOn 4 Jan 2027, at 09:00, Digital Gym <progress@gym.example> wrote:\n\n> Week 3\n`,
  ],
  [
    'Thunderbird',
    `${reply}\n\nOn 04/01/2027 09:00, Digital Gym wrote:\n> Week 3\n> Reply above this line\n`,
  ],
  ['iPhone signature', `${reply}\n\nSent from my iPhone\n\n> On 4 Jan 2027, at 09:00, X wrote:\n`],
  ['Outlook for iOS', `${reply}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n`],
  ['Android', `${reply}\n\nSent from my Android phone\n`],
  ['RFC 3676 signature', `${reply}\n\n-- \nJane Learner\nComms Officer, Department of Examples\n`],
  [
    'Gmail forward',
    `${reply}\n\n---------- Forwarded message ---------\nFrom: Digital Gym <progress@gym.example>\nDate: Mon, 4 Jan 2027 at 09:00\n`,
  ],
  [
    'our reply marker with no header at all',
    `${reply}\n\n> Reply above this line\n> Week 3: write a press release\n`,
  ],
  [
    'Zoho dash-framed header',
    `${reply}\n\n---- On Mon, 04 Jan 2027 09:00:00 +0000 progress@gym.example wrote ----\n\nWeek 3\n`,
  ],
];

const languages: [string, string][] = [
  ['fr', 'Le lun. 4 janv. 2027 à 09:00, Digital Gym <progress@gym.example> a écrit :'],
  ['fr, wrapped', 'Le lun. 4 janv. 2027 à 09:00, Digital Gym <progress@gym.example>\na écrit :'],
  ['de', 'Am Mo., 4. Jan. 2027 um 09:00 Uhr schrieb Digital Gym <progress@gym.example>:'],
  ['de, Apple', 'Am 04.01.2027 um 09:00 schrieb Digital Gym <progress@gym.example>:'],
  ['es', 'El lun, 4 ene 2027 a las 9:00, Digital Gym (<progress@gym.example>) escribió:'],
  ['it', 'Il giorno lun 4 gen 2027 alle ore 09:00 Digital Gym <progress@gym.example> ha scritto:'],
  ['it, wrapped', 'Il lunedì 4 gennaio 2027, Digital Gym <progress@gym.example>\nha scritto:'],
  ['pt', 'Em seg., 4 de jan. de 2027 às 09:00, Digital Gym <progress@gym.example> escreveu:'],
  ['nl', 'Op ma 4 jan. 2027 om 09:00 schreef Digital Gym <progress@gym.example>:'],
  ['nl, wrapped', 'Op 4 januari 2027 09:00 schreef Digital Gym <\nprogress@gym.example>:'],
  ['sv', 'Den mån 4 jan. 2027 kl 09:00 skrev Digital Gym <progress@gym.example>:'],
  ['da', 'Den man. 4. jan. 2027 kl. 09.00 skrev Digital Gym <progress@gym.example>:'],
  ['no', 'man. 4. jan. 2027 kl. 09:00 skrev Digital Gym <progress@gym.example>:'],
  ['fi', 'ma 4.1.2027 klo 9.00 Digital Gym (progress@gym.example) kirjoitti:'],
];

const outlookBlocks: [string, string][] = [
  [
    'fr',
    'De : Digital Gym <progress@gym.example>\nEnvoyé : lundi 4 janvier 2027 09:00\nÀ : Jane\nObjet : Semaine 3',
  ],
  [
    'de',
    'Von: Digital Gym <progress@gym.example>\nGesendet: Montag, 4. Januar 2027 09:00\nAn: Jane\nBetreff: Woche 3',
  ],
  [
    'es',
    'De: Digital Gym <progress@gym.example>\nEnviado: lunes, 4 de enero de 2027 9:00\nPara: Jane\nAsunto: Semana 3',
  ],
  [
    'it',
    'Da: Digital Gym <progress@gym.example>\nInviato: lunedì 4 gennaio 2027 09:00\nA: Jane\nOggetto: Settimana 3',
  ],
  [
    'pt',
    'De: Digital Gym <progress@gym.example>\nEnviado: segunda-feira, 4 de janeiro de 2027 09:00\nPara: Jane\nAssunto: Semana 3',
  ],
  [
    'nl',
    'Van: Digital Gym <progress@gym.example>\nVerzonden: maandag 4 januari 2027 09:00\nAan: Jane\nOnderwerp: Week 3',
  ],
  [
    'sv',
    'Från: Digital Gym <progress@gym.example>\nSkickat: den 4 januari 2027 09:00\nTill: Jane\nÄmne: Vecka 3',
  ],
  [
    'da',
    'Fra: Digital Gym <progress@gym.example>\nSendt: 4. januar 2027 09:00\nTil: Jane\nEmne: Uge 3',
  ],
  [
    'no',
    'Fra: Digital Gym <progress@gym.example>\nSendt: mandag 4. januar 2027 09:00\nTil: Jane\nEmne: Uke 3',
  ],
  [
    'fi',
    'Lähettäjä: Digital Gym <progress@gym.example>\nLähetetty: maanantai 4. tammikuuta 2027 9.00\nVastaanottaja: Jane\nAihe: Viikko 3',
  ],
  [
    'new Outlook, Date not Sent',
    'From: Digital Gym <progress@gym.example>\nDate: Monday, 4 January 2027 at 09:00\nTo: Jane\nSubject: Week 3',
  ],
];

const originalMessages = [
  '-----Ursprüngliche Nachricht-----',
  "-----Message d'origine-----",
  '-----Mensaje original-----',
  '-----Messaggio originale-----',
  '-----Mensagem original-----',
  '-----Oorspronkelijk bericht-----',
  '-----Ursprungligt meddelande-----',
  '-----Oprindelig meddelelse-----',
  '-----Opprinnelig melding-----',
  '-----Alkuperäinen viesti-----',
];

describe('visibleText for each mail client', () => {
  it.each(clientStyles)('%s', (_client, body) => {
    expect(visibleText({ text: body })).toBe(reply);
  });

  it.each(languages)('quote header in %s', (_language, header) => {
    const body = `${reply}\n\n${header}\n\n> Week 3\n> Reply above this line\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });

  it.each(languages)('quote header in %s with an unquoted history below', (_language, header) => {
    const body = `${reply}\n\n${header}\n\nWeek 3: write a press release\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });

  it.each(outlookBlocks)('Outlook header block in %s', (_language, block) => {
    const body = `${reply}\n\n${block}\n\nWeek 3: write a press release\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });

  it.each(originalMessages)('%s', (separator) => {
    const body = `${reply}\n\n${separator}\nVon: Digital Gym\n\nWeek 3\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });
});

describe('visibleText keeps the learner’s own words', () => {
  it.each([
    'On Monday I rewrote the press release.\nFrom now on I will post weekly.',
    'On reflection, the hardest part was the headline.\nOn Tuesday I wrote: a draft, then a second one.',
    'From: the comms team, we learned a lot.\nTo be honest it was hard.',
    'On 3 January I wrote:\n- a headline\n- a summary',
    'Sent from my desk, which is where I do my best work.',
    'I wrote the summary at 9:00 and the headline at 10:00.',
    '## Key points\n----\n1. Short posts work better',
  ])('%j', (body) => {
    expect(visibleText({ text: body })).toBe(body);
  });

  it('keeps a sentence that starts with On above a real header', () => {
    const body =
      'On Monday I rewrote the press release\nand it went out on time.\n\nOn Mon, 4 Jan 2027 at 09:00, Digital Gym <progress@gym.example> wrote:\n> Week 3\n';
    expect(visibleText({ text: body })).toBe(
      'On Monday I rewrote the press release\nand it went out on time.',
    );
  });

  it('keeps long lines whole', () => {
    const long = `${'I rewrote the release in plain English. '.repeat(30)}The end.`;
    const body = `${long}\n\n${long}\n\nOn Mon, 4 Jan 2027 at 09:00, X <x@gym.example> wrote:\n> hi`;
    expect(visibleText({ text: body })).toBe(`${long}\n\n${long}`);
  });

  it('keeps answers written inline between the quoted lines', () => {
    const body =
      'On Mon, 4 Jan 2027 at 09:00, Digital Gym <progress@gym.example> wrote:\n> Reply above this line\n> What did you change?\n\nThe headline.\n\n> What will you try next?\n\nShorter posts.\n\n-- \nJane\n';
    // The quoted lines go, with the blank lines under them; the answers keep their own spacing.
    expect(visibleText({ text: body })).toBe('The headline.\n\nShorter posts.');
    const tricky = readFixture('fixtures/email_tricky_18_inline_reply.txt');
    expect(visibleText({ text: tricky })).toContain('Option C is not suitable');
  });

  it('keeps nothing of an Outlook history with no words above it', () => {
    const body =
      'From: Digital Gym <progress@gym.example>\nSent: Monday, January 4, 2027 9:00 AM\nTo: Jane\nSubject: Week 3\n\nWeek 3: write a press release\n';
    expect(visibleText({ text: body })).toBe('');
  });

  it('normalises line ends and trims trailing whitespace and blank lines', () => {
    expect(visibleText({ text: '\r\n  done   \r\nthanks\t\r\n\r\n\r\n' })).toBe('  done\nthanks');
    expect(visibleText({ text: 'a\n\n\n\n\nb' })).toBe('a\n\n\nb');
  });

  it('returns an empty string for nothing, or only history', () => {
    expect(visibleText({})).toBe('');
    expect(visibleText({ text: '', html: '' })).toBe('');
    expect(visibleText({ text: '  \n ' })).toBe('');
    expect(visibleText({ text: 'On 4 Jan 2027, at 09:00, X <x@y.example> wrote:\n> hi' })).toBe('');
  });
});

const gmailHtml = `<div dir="ltr">Done! I rewrote the press release in plain English.</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, 4 Jan 2027 at 09:00, Digital Gym &lt;<a href="mailto:progress@gym.example">progress@gym.example</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex"><div>Week 3</div></blockquote></div>`;
const outlookHtml = `<html><head><style>p{margin:0}</style></head><body><div style="font-family:Calibri">Done! I rewrote the press release in plain English.</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>From:</b> Digital Gym &lt;progress@gym.example&gt;<br><b>Sent:</b> Monday, January 4, 2027 9:00 AM<br><b>To:</b> Jane<br><b>Subject:</b> Week 3</font><div>&nbsp;</div></div><div>Week 3</div></body></html>`;
const appleHtml = `<html><body dir="auto"><div dir="ltr">Done! I rewrote the press release in plain English.</div><div dir="ltr"><br><blockquote type="cite">On 4 Jan 2027, at 09:00, Digital Gym &lt;progress@gym.example&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">Week 3</div></blockquote></body></html>`;
const thunderbirdHtml = `<html><body><p>Done! I rewrote the press release in plain English.</p><div class="moz-cite-prefix">On 04/01/2027 09:00, Digital Gym wrote:<br></div><blockquote type="cite" cite="mid:abc@gym.example">Week 3</blockquote></body></html>`;
const yahooHtml = `<div class="ydp1"><div>Done! I rewrote the press release in plain English.</div></div><div id="yahoo_quoted_1" class="yahoo_quoted"><div>On Monday, 4 January 2027, 09:00, Digital Gym wrote:</div><div>Week 3</div></div>`;

describe('visibleText of HTML-only bodies', () => {
  it.each([
    ['Gmail', gmailHtml],
    ['Outlook', outlookHtml],
    ['Apple Mail', appleHtml],
    ['Thunderbird', thunderbirdHtml],
    ['Yahoo', yahooHtml],
  ])('%s', (_client, html) => {
    expect(visibleText({ html })).toBe(reply);
  });

  it('prefers the text part when there is one', () => {
    expect(visibleText({ text: 'done', html: '<p>something else</p>' })).toBe('done');
  });

  it('decodes entities and keeps paragraphs apart', () => {
    expect(visibleText({ html: '<p>Fish &amp; chips</p><p>2 &lt; 3</p>' })).toBe(
      'Fish & chips\n\n2 < 3',
    );
  });
});

describe('visibleText on pathological input returns', () => {
  it.each([
    ['a 1 MB line of spaces', ' '.repeat(1024 * 1024)],
    ['a 1 MB line of spaces before a word', `${' '.repeat(1024 * 1024)}x`],
    ['100k lines', 'On a line\n'.repeat(100_000)],
    ['100k blank lines', '\n'.repeat(100_000)],
    ['a long On line', `On ${'a '.repeat(200_000)}`],
    ['many Op lines', 'Op \n'.repeat(50_000)],
    ['many 在 lines', '在\n'.repeat(50_000)],
    ['digits, from and angles', `1234from<`.repeat(50_000)],
    ['From: lines', 'From: x <\n'.repeat(20_000)],
  ])('%s', (_name, text) => {
    expect(typeof visibleText({ text })).toBe('string');
  });

  it.each([
    ['deeply nested divs', '<div>'.repeat(100_000)],
    ['unclosed angle brackets', '<a'.repeat(200_000)],
    ['many blockquotes', '<blockquote>x'.repeat(50_000)],
  ])('HTML: %s', (_name, html) => {
    expect(typeof visibleText({ html })).toBe('string');
  });
});

describe('visibleText properties', () => {
  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        expect(typeof visibleText({ text })).toBe('string');
        expect(typeof visibleText({ html: text })).toBe('string');
      }),
    );
  });

  it('never throws on arbitrary bytes read as latin1', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const text = Buffer.from(bytes).toString('latin1');
        expect(typeof visibleText({ text })).toBe('string');
      }),
    );
  });

  it('is already trimmed and free of carriage returns', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const out = visibleText({ text });
        expect(out).not.toContain('\r');
        expect(out).toBe(out.trimEnd());
      }),
    );
  });
});

// Quote headers in the languages added for issue #12 §3, as each client writes them (sources in
// src/replies/quote-headers.ts).
const moreHeaders: [string, string][] = [
  ['ru, Gmail (no verb)', 'пн, 4 янв. 2027 г. в 09:00, Digital Gym <progress@gym.example>:'],
  ['ru, Apple Mail', '4 янв. 2027 г., в 9:00, Digital Gym <progress@gym.example> написал(а):'],
  ['ru, Thunderbird', '04.01.2027 9:00, Digital Gym пишет:'],
  [
    'ru, Outlook 2019',
    '4 января 2027 г., в 9:00, пользователь "Digital Gym" <progress@gym.example> написал:',
  ],
  ['uk, Gmail', 'пн, 4 січ. 2027 р. о 09:00 Digital Gym <progress@gym.example> пише:'],
  ['uk, Apple Mail', '4 січ. 2027 р. о 09:00 Digital Gym <progress@gym.example> написав(ла):'],
  ['pl, Gmail', 'pon., 4 sty 2027 o 09:00 Digital Gym <progress@gym.example> napisał(a):'],
  [
    'pl, Gmail (older), wrapped',
    'W dniu 4 stycznia 2027 09:00 użytkownik Digital Gym <progress@gym.example>\nnapisał:',
  ],
  ['pl, Thunderbird', 'W dniu 4.01.2027 o 09:00, Digital Gym pisze:'],
  [
    'pl, Apple Mail',
    'Wiadomość napisana przez Digital Gym <progress@gym.example> w dniu 04.01.2027, o godz. 09:00:',
  ],
  ['cs, Gmail', 'po 4. 1. 2027 v 9:00 odesílatel Digital Gym <progress@gym.example> napsal:'],
  ['cs, Thunderbird', 'Dne 04. 01. 2027 v 9:00 Digital Gym napsal(a):'],
  ['ja, Gmail (no verb)', '2027年1月4日(月) 9:00 Digital Gym <progress@gym.example>:'],
  ['ja, Apple Mail', '2027/01/04 9:00、Digital Gym <progress@gym.example>のメール:'],
  ['zh, Gmail', 'Digital Gym <progress@gym.example> 于2027年1月4日周一 09:00写道：'],
  ['zh, Apple Mail', '在 2027年1月4日，09:00，Digital Gym <progress@gym.example> 写道：'],
  ['zh-TW, Gmail', 'Digital Gym <progress@gym.example> 於 2027年1月4日 週一 上午9:00寫道：'],
  ['tr, Gmail', 'Digital Gym <progress@gym.example>, 4 Oca 2027 Pzt, 09:00 tarihinde şunu yazdı:'],
  ['tr, Thunderbird', '4.01.2027 09:00 tarihinde Digital Gym yazdı:'],
  [
    'tr, Apple Mail',
    '4 Oca 2027 tarihinde 09:00 saatinde, Digital Gym <progress@gym.example> şunları yazdı:',
  ],
  [
    'cy, Gmail',
    'Ar ddydd Llun, 4 Ion 2027 am 09:00, Digital Gym <progress@gym.example> ysgrifennodd:',
  ],
  [
    'cy, Evolution and Thunderbird',
    'Ar Llun, 2027-01-04 am 09:00 +0000, ysgrifennodd Digital Gym:',
  ],
  ['cy, Thunderbird without a date', 'Ysgrifennodd Digital Gym <progress@gym.example>:'],
  [
    'nl, Apple Mail',
    'Op 4 jan. 2027 om 09:00 heeft Digital Gym <progress@gym.example> het volgende geschreven:',
  ],
];

const moreOutlookBlocks: [string, string][] = [
  [
    'ru',
    'От: Digital Gym <progress@gym.example>\nОтправлено: 4 января 2027 г. 9:00\nКому: Jane\nТема: Неделя 3',
  ],
  [
    'uk',
    'Від: Digital Gym <progress@gym.example>\nНадіслано: 4 січня 2027 р. 9:00\nКому: Jane\nТема: Тиждень 3',
  ],
  [
    'pl',
    'Od: Digital Gym <progress@gym.example>\nWysłano: poniedziałek, 4 stycznia 2027 09:00\nDo: Jane\nTemat: Tydzień 3',
  ],
  [
    'cs',
    'Od: Digital Gym <progress@gym.example>\nOdesláno: pondělí 4. ledna 2027 9:00\nKomu: Jane\nPředmět: Týden 3',
  ],
  [
    'ja',
    '差出人: Digital Gym <progress@gym.example>\n送信日時: 2027年1月4日 9:00\n宛先: Jane\n件名: 第3週',
  ],
  [
    'zh',
    '发件人: Digital Gym <progress@gym.example>\n发送时间: 2027年1月4日 9:00\n收件人: Jane\n主题: 第3周',
  ],
  [
    'tr',
    'Kimden: Digital Gym <progress@gym.example>\nGönderildi: 4 Ocak 2027 Pazartesi 09:00\nKime: Jane\nKonu: Hafta 3',
  ],
  [
    'cy',
    'Oddi wrth: Digital Gym <progress@gym.example>\nAnfonwyd: Dydd Llun, 4 Ionawr 2027 09:00\nAt: Jane\nPwnc: Wythnos 3',
  ],
  [
    'Outlook to text from HTML, bold labels',
    '*From:* Digital Gym <progress@gym.example>\n*Sent:* Monday, 4 January 2027 09:00\n*To:* Jane\n*Subject:* Week 3',
  ],
  [
    'a block that starts with the date',
    'Date: Mon, 4 Jan 2027 09:00:00 +0000\nFrom: progress@gym.example\nTo: jane@example.com\nSubject: Week 3',
  ],
];

const decoratedSeparators = [
  '-----Исходное сообщение-----',
  '-----Початкове повідомлення-----',
  '-----Oryginalna wiadomość-----',
  '-------- Původní zpráva --------',
  '-----元のメッセージ-----',
  '-----原始邮件-----',
  '-------- Özgün İleti --------',
  '-----Neges Wreiddiol-----',
  '----- Original Message -----',
  '*-----Original Message-----*',
  '> -----Original Message-----',
  '-------- Original-Nachricht --------',
  '-------- Message transféré --------',
];

const phoneStamps = [
  'Anfonwyd o fy iPhone',
  'Von meinem iPhone gesendet',
  'Отправлено с iPhone',
  'Надіслано з iPhone',
  'Wysłane z iPhone’a',
  'Odesláno z iPhonu',
  'iPhoneから送信',
  '发自我的iPhone',
  "iPhone'umdan gönderildi",
  'Sent from Mail for Windows',
];

describe('visibleText in the languages added for #12', () => {
  it.each(moreHeaders)('quote header, %s', (_client, header) => {
    expect(
      visibleText({ text: `${reply}\n\n${header}\n\n> Week 3\n> Reply above this line\n` }),
    ).toBe(reply);
    expect(visibleText({ text: `${reply}\n\n${header}\n\nWeek 3: write a press release\n` })).toBe(
      reply,
    );
  });

  it.each(moreOutlookBlocks)('Outlook header block, %s', (_language, block) => {
    const body = `${reply}\n\n${block}\n\nWeek 3: write a press release\n`;
    expect(visibleText({ text: body })).toBe(reply);
    expect(visibleText({ text: `${reply}\n\n${'_'.repeat(32)}\n${block}\n\nWeek 3\n` })).toBe(
      reply,
    );
  });

  it.each(decoratedSeparators)('%s', (separator) => {
    const body = `${reply}\n\n${separator}\nFrom: Digital Gym\n\nWeek 3\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });

  it.each(phoneStamps)('phone stamp %j', (stamp) => {
    expect(visibleText({ text: `${reply}\n\n${stamp}\n` })).toBe(reply);
  });

  it.each([
    'Он пишет: всё хорошо, спасибо.',
    'W dniu egzaminu napisał: nic.',
    'Ar ddydd Llun ysgrifennodd fy rheolwr: da iawn.',
    '我在家里写道：这周很好。',
    'Ders 3 için şunu yazdı: tamam.',
  ])('keeps a sentence that only sounds like a header: %j', (body) => {
    expect(visibleText({ text: body })).toBe(body);
  });
});

describe('visibleText with forwards, delimiters and interleaved answers', () => {
  it('keeps the words above a forwarded message and none of the forward', () => {
    const forwards = [
      `${reply}\n\n---------- Forwarded message ---------\nFrom: Digital Gym <progress@gym.example>\nDate: Mon, 4 Jan 2027 at 09:00\nSubject: Week 3\nTo: Jane <jane@example.com>\n\nReply STOP to stop.\n`,
      `${reply}\n\nBegin forwarded message:\n\nFrom: Digital Gym <progress@gym.example>\nSubject: Week 3\nDate: 4 January 2027 at 09:00:00 GMT\nTo: Jane <jane@example.com>\n\nReply STOP to stop.\n`,
      `${reply}\n\nPoczątek przekazywanej wiadomości:\n\nOd: Digital Gym <progress@gym.example>\nTemat: Tydzień 3\nData: 4 stycznia 2027 09:00:00 CET\nDo: Jan <jan@example.com>\n\nStop.\n`,
      `${reply}\n\n-------- Перенаправленное сообщение --------\nТема: Неделя 3\nДата: Mon, 4 Jan 2027 09:00:00 +0000\nОт: Digital Gym <progress@gym.example>\nКому: jane@example.com\n\nStop.\n`,
    ];
    for (const body of forwards) expect(visibleText({ text: body })).toBe(reply);
  });

  it('reads a bare forward, with no words above it, as nothing of the learner’s', () => {
    const body = `---------- Forwarded message ---------\nFrom: Digital Gym <progress@gym.example>\nDate: Mon, 4 Jan 2027 at 09:00\nSubject: Week 3\nTo: Jane <jane@example.com>\n\nReply STOP to stop.\n`;
    expect(visibleText({ text: body })).toBe('');
  });

  it('keeps rows of dashes, underscores and equals signs that the learner drew', () => {
    for (const rule of ['-'.repeat(40), '_'.repeat(40), '='.repeat(40), '* * *']) {
      const body = `Part one of my answer.\n\n${rule}\n\nPart two of my answer.`;
      expect(visibleText({ text: body })).toBe(body);
    }
  });

  it('drops a signature block under a rule, but not the sentences under one', () => {
    const signed = `${reply}\n${'_'.repeat(29)}\n\nJane Learner\nComms Officer\n\nSent via mobile device\n`;
    expect(visibleText({ text: signed })).toBe(reply);
    const parts = `${reply}\n\n${'_'.repeat(29)}\n\nAnd a second part of my answer.\n`;
    expect(visibleText({ text: parts })).toBe(parts.trim());
  });

  it('keeps the answers between and below the quoted lines (Before ... After)', () => {
    const body =
      'Hallo,\n\nAm 04.01.2027 um 09:00 schrieb Digital Gym <progress@gym.example>:\n> Was hast du geändert?\n\nDie Überschrift.\n\n> Was probierst du als Nächstes?\n\nKürzere Beiträge.\n\nViele Grüße\nJana\n';
    expect(visibleText({ text: body })).toBe(
      'Hallo,\n\nDie Überschrift.\n\nKürzere Beiträge.\n\nViele Grüße\nJana',
    );
  });

  it('keeps an answer written right under a long quoted line, with no blank line', () => {
    const body = `On Mon, 4 Jan 2027 at 09:00, Digital Gym <progress@gym.example> wrote:\n> This week, write a press release about a service your team runs, in plain English.\nYes, about the library service.\n> What will you try next?\nShorter posts.\n`;
    expect(visibleText({ text: body })).toBe('Yes, about the library service.\nShorter posts.');
  });

  it('does not take the rest of a wrapped quoted line for an answer', () => {
    const body = `${reply}\n\nOn Mon, 4 Jan 2027 at 09:00, Digital Gym <progress@gym.example> wrote:\n> This week, write a press release about a service your team runs, in plain English\nfor the public.\n> Reply STOP to stop.\n`;
    expect(visibleText({ text: body })).toBe(reply);
  });
});

const owaHtml = `<div dir="ltr"><div style="font-family:Aptos">${reply}</div><div id="mail-editor-reference-message-container"><hr><b>From:</b> Digital Gym<br><b>Sent:</b> Monday<br><div>STOP</div></div></div>`;
const zimbraHtml = `<html><body><div style="font-family: arial"><div>${reply}</div><br><hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__"><b>De: </b>"Digital Gym" &lt;progress@gym.example&gt;<br><b>À: </b>jane@example.com<br></div><br><div data-marker="__QUOTED_TEXT__">Reply STOP to stop.</div></div></body></html>`;
const yahooNestedHtml = `<div class="ydp5c4yahoo-style-wrap"><div>${reply}</div></div><div id="ydp8e1yahoo_quoted_123" class="ydp8e1yahoo_quoted"><div>On Monday, 4 January 2027, 09:00:00 GMT, Digital Gym wrote:</div><div>Reply STOP to stop.</div></div>`;
const zohoHtml = `<div>${reply}<br></div><div class="zmail_extra_hr"></div><div class="zmail_extra"><div>---- On Mon, 04 Jan 2027 09:00:00 +0000 <b>Digital Gym</b> wrote ----</div><blockquote>Reply STOP to stop.</blockquote></div>`;
const appleInterleavedHtml = `<html><body dir="auto"><div>Hi,</div><blockquote type="cite">What did you change?</blockquote><div>The headline.</div><blockquote type="cite">Reply STOP to stop.</blockquote></body></html>`;

describe('visibleText of HTML-only replies, quoted parts dropped before conversion', () => {
  it.each([
    ['new Outlook (mail-editor-reference-message-container)', owaHtml],
    ['Zimbra (hr#zwchr)', zimbraHtml],
    ['Yahoo, nested (ydp…yahoo_quoted)', yahooNestedHtml],
    ['Zoho (zmail_extra)', zohoHtml],
  ])('%s', (_client, html) => {
    expect(visibleText({ html })).toBe(reply);
  });

  it('keeps the answers between Apple Mail’s cite blockquotes', () => {
    expect(visibleText({ html: appleInterleavedHtml })).toBe('Hi,\nThe headline.');
  });
});

describe('visibleText never lets a quote through', () => {
  // Every header this file knows, in every language and client, over a quote full of commands.
  const headers = [...languages, ...moreHeaders].map(([, header]) => header);
  const blocks = [...outlookBlocks, ...moreOutlookBlocks].map(([, block]) => block);
  const word = fc.stringMatching(/^[a-zà-ÿ]{1,12}$/);
  const sentence = fc
    .array(word, { minLength: 1, maxLength: 8 })
    .map((words) => `${words.join(' ')}.`);
  const own = fc.array(sentence, { minLength: 1, maxLength: 4 }).map((lines) => lines.join('\n'));
  const decoys = '> STOP\n> Unsubscribe\n> Pause for 2 weeks\n> Reply above this line';

  it('keeps exactly the learner’s words above any quote header over ">" lines', () => {
    fc.assert(
      fc.property(own, fc.constantFrom(...headers), (text, header) => {
        expect(visibleText({ text: `${text}\n\n${header}\n${decoys}\n` })).toBe(text);
      }),
    );
  });

  it('keeps exactly the learner’s words above any Outlook block or separator', () => {
    const separators = [...originalMessages, ...decoratedSeparators];
    fc.assert(
      fc.property(
        own,
        fc.constantFrom(...blocks),
        fc.constantFrom('', '_'.repeat(32), ...separators),
        (text, block, separator) => {
          const rule = separator === '' ? '' : `${separator}\n`;
          const body = `${text}\n\n${rule}${block}\n\nSTOP\nUnsubscribe\n`;
          expect(visibleText({ text: body })).toBe(text);
        },
      ),
    );
  });
});

describe('readMessage of HTML-only replies takes no command from the quote', () => {
  const eml = (html: string) =>
    Buffer.from(
      [
        'From: Jane Learner <jane@example.com>',
        'To: progress+t0k3n@gym.example',
        'Subject: Re: Week 3',
        'Date: Mon, 04 Jan 2027 10:00:00 +0000',
        'Message-ID: <html-only@example.com>',
        'MIME-Version: 1.0',
        'Content-Type: text/html; charset=utf-8',
        '',
        html,
      ].join('\r\n'),
    );

  it.each([
    ['Outlook on the web', owaHtml],
    ['Zimbra', zimbraHtml],
    ['Yahoo', yahooNestedHtml],
    ['Zoho', zohoHtml],
  ])('%s', async (_client, html) => {
    const read = await readMessage(eml(html));
    expect(read.kind).toBe('reply');
    expect(read.text).toBe(reply);
    expect(read.intent?.type).not.toBe('stop');
  });
});

describe('requiredRunOf: the plain run a forward pattern needs before it is tried (#17)', () => {
  it('finds the longest run every match holds', () => {
    expect(requiredRunOf(String.raw`^>?\s*Begin forwarded message\s?:`)).toBe(
      'Begin forwarded message',
    );
    expect(requiredRunOf(String.raw`^\s?.+\s*[\[|<].+[\]|>]\s?kirjoitti\s?.+\s?:`)).toBe(
      'kirjoitti',
    );
    expect(requiredRunOf(String.raw`^\s*-{5,8} Forwarded Message -{5,8}\s*`)).toBe(
      ' Forwarded Message ',
    );
    // A quantified character is not required; the run before it still is.
    expect(requiredRunOf('abcde?')).toBe('abcd');
    expect(requiredRunOf('abcd+x')).toBe('abc');
    expect(requiredRunOf(String.raw`napsal\(a\)`)).toBe('napsal');
  });

  it('gives none for what it does not read', () => {
    for (const source of [
      String.raw`^\s*_{32}\s*$`,
      '(?:abc)def',
      'abcd|efgh',
      String.raw`abc\x41def`,
      String.raw`abc\u0041def`,
      String.raw`abc\p{L}def`,
      String.raw`(abc)\1`,
      'ab?',
      '[abc',
    ])
      expect(requiredRunOf(source), source).toBeUndefined();
  });

  it('never names a run that a match can lack', () => {
    const atom = fc.constantFrom('a', 'b', ' ', '.', String.raw`\s`, '[ab]', String.raw`\-`, '-');
    const quantifier = fc.constantFrom('', '', '', '?', '*', '+', '{1,2}');
    const pattern = fc
      .array(fc.tuple(atom, quantifier), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.map(([a, q]) => a + q).join(''));
    const text = fc.stringMatching(/^[ab -]{0,12}$/);
    fc.assert(
      fc.property(pattern, text, (source, candidate) => {
        const run = requiredRunOf(source);
        return (
          run === undefined || !new RegExp(source, 'm').test(candidate) || candidate.includes(run)
        );
      }),
      { numRuns: 5000 },
    );
  });
});
