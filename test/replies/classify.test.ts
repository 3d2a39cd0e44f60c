import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, isAutoSubject, parseContentLine } from '../../src/replies/classify.js';
import {
  InboundParseError,
  InboundTooLargeError,
  type ParsedInbound,
  maxInboundBytes,
  parseMail,
} from '../../src/replies/parse-mail.js';
import { deliveryFromMessageId } from '../../src/mail/headers.js';
import { tokenFromAddress, verifyReplyToken } from '../../src/mail/tokens.js';

/** The secret the fixtures' Message-IDs and reply tokens were made with. */
const fixtureSecret = 'fixture-secret-do-not-use';
const replyAddress = 'progress@gym.example.test';

const fixtureDir = fileURLToPath(new URL('../fixtures/replies/', import.meta.url));
const fixtureFiles = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.eml'))
  .sort();
const fixture = (name: string) => readFileSync(`${fixtureDir}${name}`);

interface Expected {
  readonly kind: string;
  readonly text: string;
  readonly intent: unknown;
  readonly bounce?: { readonly status: string; readonly recipient: string; readonly hard: boolean };
  readonly rsvp?: { readonly uid: string; readonly partstat: string; readonly attendee: string };
}
const expected = JSON.parse(readFileSync(`${fixtureDir}expected.json`, 'utf8')) as Record<
  string,
  Expected
>;

/** A message from header lines and a body, with CRLF line ends. */
function message(headers: readonly string[], body = 'Thanks, done.\n'): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`);
}

const human = [
  'From: Jane Doe <jane@example.com>',
  'To: "Digital Gym" <progress+116irbpdilg77kqah6w@gym.example.test>',
  'Subject: Re: Week 3: your practice task',
  'Date: Sun, 20 Dec 2026 10:00:00 +0000',
  'Message-ID: <reply-1@example.com>',
  'In-Reply-To: <d42.7kmtvymgj6cfg@gym.example.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
];

const read = async (raw: Buffer) => classify(await parseMail(raw));

function expectLowerCaseAddresses(mail: ParsedInbound): void {
  for (const address of [mail.from, ...mail.recipients]) {
    if (address !== undefined) expect(address).toBe(address.toLowerCase());
  }
}

describe('fixtures', () => {
  it('has an expectation for every fixture and a fixture for every expectation', () => {
    expect(Object.keys(expected).sort()).toEqual(fixtureFiles);
  });

  it.each(fixtureFiles)('%s', async (name) => {
    const want = expected[name]!;
    const mail = await parseMail(fixture(name));
    const got = classify(mail);
    expect(got.kind).toBe(want.kind);
    expect(got.evidence).not.toBe('');
    if (want.bounce) expect(got.bounce).toMatchObject(want.bounce);
    else expect(got.bounce).toBeUndefined();
    if (want.rsvp) expect(got.rsvp).toMatchObject(want.rsvp);
    else expect(got.rsvp).toBeUndefined();
    expectLowerCaseAddresses(mail);
    expect(mail.date?.getUTCFullYear()).toBeGreaterThanOrEqual(2026);

    if (got.bounce) {
      // The report names the message we sent, by the Message-ID we made.
      expect(deliveryFromMessageId(fixtureSecret, got.bounce.originalMessageId!)).toBeDefined();
      expect(got.bounce.diagnostic).toContain(got.bounce.status);
    } else {
      // Everything else went to a reply address we handed out, with a valid token.
      const token = mail.recipients
        .map((address) => tokenFromAddress(address, replyAddress))
        .find((t) => t !== undefined);
      expect(verifyReplyToken(fixtureSecret, token ?? '')).toMatchObject({ ok: true });
    }
    if (want.kind === 'reply') {
      expect(deliveryFromMessageId(fixtureSecret, mail.threadIds[0] ?? '')).toBeDefined();
      expect(mail.calendarParts).toEqual([]);
      expect(mail.deliveryStatus).toEqual([]);
      expect((mail.text ?? mail.html ?? '').length).toBeGreaterThan(0);
    }
  });

  it('reads text and HTML as the clients sent them', async () => {
    const htmlOnly = await parseMail(fixture('gmail-html-only.eml'));
    expect(htmlOnly.text).toBeUndefined(); // never mailparser's own HTML-to-text
    expect(htmlOnly.html).toContain('All done, thanks!');
    expect((await parseMail(fixture('qp-latin1.eml'))).text).toContain("Fait ! C'était très utile");
    expect((await parseMail(fixture('base64-utf8.eml'))).text).toContain('Done 👍 — took me');
    const spanish = await parseMail(fixture('gmail-spanish.eml'));
    expect(spanish.fromName).toBe('Lucía García');
  });

  it('keeps delivery reports out of the text and finds our returned Message-ID', async () => {
    const mail = await parseMail(fixture('bounce-postfix-5.1.1.eml'));
    expect(mail.text).not.toContain('Final-Recipient');
    expect(mail.deliveryStatus[0]).toContain('Status: 5.1.1');
    expect(mail.returnedHeaders[0]).toContain('Message-ID: <d328.pzkmlsvfyytz6@gym.example.test>');
    const exchange = await parseMail(fixture('bounce-exchange-ndr-5.1.10.eml'));
    expect(exchange.returnedHeaders[0]).toContain('<d329.v4ou7uxg7xrni@gym.example.test>');
  });

  it('gives calendar parts with their MIME method, or none when the part has none', async () => {
    const google = await parseMail(fixture('rsvp-google-declined.eml'));
    expect(google.calendarParts.map((p) => [p.contentType, p.method, p.filename])).toEqual([
      ['text/calendar', 'REPLY', undefined],
      ['application/ics', undefined, 'invite.ics'],
    ]);
    const apple = await parseMail(fixture('rsvp-apple-tentative.eml'));
    expect(apple.calendarParts[0]?.method).toBeUndefined();
    expect(classify(apple).rsvp?.sequence).toBe(0);
    expect(classify(await parseMail(fixture('rsvp-outlook-accepted.eml'))).rsvp?.sequence).toBe(1);
  });
});

describe('envelope', () => {
  it('lists To, Cc, Delivered-To and X-Original-To in order, lower case, once each', async () => {
    const mail = await parseMail(
      message([
        'Delivered-To: Progress+ABC@Gym.Example.Test',
        'X-Original-To: progress@gym.example.test',
        'Delivered-To: progress@gym.example.test',
        'From: "Doe, Jane" <Jane.Doe@Example.COM>',
        'To: A <A@Example.com>, b@example.com',
        'Cc: Team: C@example.com, d@example.com;',
        'Subject: hello',
      ]),
    );
    expect(mail.from).toBe('jane.doe@example.com');
    expect(mail.fromName).toBe('Doe, Jane');
    expect(mail.recipients).toEqual([
      'a@example.com',
      'b@example.com',
      'c@example.com',
      'd@example.com',
      'progress+abc@gym.example.test',
      'progress@gym.example.test',
    ]);
  });

  it('puts In-Reply-To first, then References newest first, without repeats', async () => {
    const mail = await parseMail(
      message([
        ...human.filter((h) => !h.startsWith('In-Reply-To')),
        'In-Reply-To: <c@x> (Jane Doe\'s message of "Sun, 20 Dec")',
        'References: <a@x> <b@x>',
        '\t<c@x>',
      ]),
    );
    expect(mail.threadIds).toEqual(['<c@x>', '<b@x>', '<a@x>']);
  });

  it('has no Message-ID, date or sender when the message has none, rather than inventing them', async () => {
    const mail = await parseMail(message(['Subject: x', 'Date: not a date']));
    expect(mail.messageId).toBeUndefined();
    expect(mail.date).toBeUndefined(); // mailparser alone would say "now"
    expect(mail.from).toBeUndefined();
    expect(mail.threadIds).toEqual([]);
    expect(mail.subject).toBe('x');
  });

  it('keeps repeated headers and unfolds them', async () => {
    const mail = await parseMail(message([...human, 'Received: one', 'Received: two', '\tthree']));
    expect(mail.headers['received']).toEqual(['one', 'two\tthree']);
    expect(mail.messageId).toBe('<reply-1@example.com>');
  });

  it('does not throw on a broken charset or transfer encoding', async () => {
    const raw = message(
      [
        'From: =?x-no-such-charset?Q?=FF?= <a@example.com>',
        'Subject: =?utf-8?B?broken!!?=',
        'Content-Type: text/plain; charset=x-no-such-charset',
        'Content-Transfer-Encoding: base64',
      ],
      '!!!% not base64 \u00ff',
    );
    const mail = await parseMail(raw);
    expect(classify(mail).kind).toBe('reply');
  });

  it('refuses a message over 25 MiB before parsing, saying the size and the limit', async () => {
    const raw = Buffer.alloc(26 * 1024 * 1024, 'a');
    const error = await parseMail(raw).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InboundTooLargeError);
    expect(String((error as Error).message)).toContain(String(raw.length));
    expect(String((error as Error).message)).toContain(String(maxInboundBytes));
    await expect(parseMail(message(human))).resolves.toBeDefined();
  });

  it('refuses a message with hundreds of MIME parts with a clear error', async () => {
    const parts = Array.from({ length: 300 }, (_, i) => `--b\nContent-Type: text/plain\n\n${i}\n`);
    const raw = message(
      ['From: a@example.com', 'Content-Type: multipart/mixed; boundary="b"'],
      `${parts.join('')}--b--\n`,
    );
    await expect(parseMail(raw)).rejects.toThrow(InboundParseError);
    await expect(parseMail(raw)).rejects.toThrow(/not parsed: .*200 MIME parts/);
  });
});

describe('auto-replies', () => {
  it.each([
    ['Auto-Submitted: auto-replied', 'Auto-Submitted: auto-replied'],
    ['Auto-Submitted: auto-generated', 'Auto-Submitted: auto-generated'],
    ['auto-submitted: Auto-Replied (vacation)', 'Auto-Submitted: Auto-Replied (vacation)'],
    ['X-Autoreply: yes', 'X-Autoreply: yes'],
    ['X-Autorespond: Vacation', 'X-Autorespond: Vacation'],
    ['Precedence: bulk', 'Precedence: bulk'],
    ['Precedence: junk', 'Precedence: junk'],
    ['Precedence: list', 'Precedence: list'],
    ['Precedence: auto_reply', 'Precedence: auto_reply'],
    ['X-MS-Exchange-Inbox-Rules-Loop: jane@example.com', 'X-MS-Exchange-Inbox-Rules-Loop:'],
    [
      'X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent',
      'X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent',
    ],
    ['X-Autogenerated: Reply', 'X-Autogenerated: Reply'],
    ['X-FC-MachineGenerated: true', 'X-FC-MachineGenerated: true'],
    ['X-POST-MessageClass: 9; Autoresponder', 'X-POST-MessageClass:'],
    ['Return-Path: <>', 'Return-Path: <>'],
  ])('%s is automatic', async (header, evidence) => {
    const got = await read(message([...human, header]));
    expect(got.kind).toBe('auto_reply');
    expect(got.evidence.startsWith(evidence)).toBe(true);
  });

  it.each([
    'X-Auto-Response-Suppress: All',
    'X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply',
    'Auto-Submitted: no',
    'Precedence: normal',
    'Return-Path: <jane@example.com>',
  ])('%s alone is a human reply', async (header) => {
    const got = await read(message([...human, header]));
    expect(got.kind).toBe('reply');
  });

  it.each([
    'Automatic reply: Week 3: your practice task',
    'Auto: Week 3: your practice task',
    'Autoreply: Week 3',
    'Auto-Reply: Week 3',
    'Out of Office: Week 3: your practice task',
    'Out of the office until 4 January',
    'Abwesenheitsnotiz: Week 3',
    'Automatische Antwort: Week 3',
    'Réponse automatique\u00a0: Week 3',
    'RÉPONSE AUTOMATIQUE : Week 3',
    'Respuesta automática: Week 3',
    'Risposta automatica: Week 3',
    'Automatisch antwoord: Week 3',
    'Automatiskt svar: Week 3',
    'Resposta automática: Week 3',
    'Fuera de la oficina: Week 3',
    'Absence : Week 3',
    '[EXTERNAL] Automatic reply: Week 3',
  ])('subject %j is automatic', async (subject) => {
    expect(isAutoSubject(subject)).toBe(true);
    const headers = human.filter((h) => !h.startsWith('Subject:'));
    const encoded = `=?utf-8?B?${Buffer.from(subject).toString('base64')}?=`;
    const got = await read(message([...headers, `Subject: ${encoded}`]));
    expect(got).toMatchObject({
      kind: 'auto_reply',
      evidence: `subject ${JSON.stringify(subject)}`,
    });
  });

  it.each([
    'Re: Week 3: your practice task',
    'Re: Automatic reply: Week 3', // a person answering an out-of-office
    'Re: Week 5: Out of office etiquette',
    'Autumn plans',
    'Absences next week',
  ])('subject %j is not', (subject) => {
    expect(isAutoSubject(subject)).toBe(false);
  });

  it('treats a mail server notice without a delivery report as automatic, never as words', async () => {
    const got = await read(
      message(['From: MAILER-DAEMON@mx.example.com', 'Subject: failure notice', 'To: gym@x']),
    );
    expect(got).toMatchObject({ kind: 'auto_reply' });
  });

  it('treats a read receipt (disposition-notification report) as automatic', async () => {
    const raw = message(
      [
        'From: Jane <jane@example.com>',
        'Subject: Read: Week 3',
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"',
      ],
      '--b\nContent-Type: text/plain\n\nRead.\n--b\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n',
    );
    expect((await read(raw)).kind).toBe('auto_reply');
  });
});

const dsn = (status: string, action = 'failed') =>
  `Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; Kim@Example.net\nAction: ${action}\nStatus: ${status}\nDiagnostic-Code: smtp; 550 ${status} no such user\n`;

describe('bounces', () => {
  it('takes a MAILER-DAEMON message with a delivery-status part as a bounce', async () => {
    const raw = message(
      [
        'From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>',
        'Subject: Returned mail',
        'Content-Type: multipart/mixed; boundary="b"',
      ],
      `--b\nContent-Type: text/plain\n\nFailed.\n--b\nContent-Type: message/delivery-status\n\n${dsn('5.1.1')}\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <d42.7kmtvymgj6cfg@gym.example.test>\nSubject: x\n\n--b--\n`,
    );
    const got = await read(raw);
    expect(got.kind).toBe('bounce');
    expect(got.bounce).toEqual({
      status: '5.1.1',
      hard: true,
      recipient: 'kim@example.net',
      originalMessageId: '<d42.7kmtvymgj6cfg@gym.example.test>',
      diagnostic: '550 5.1.1 no such user',
    });
  });

  it('does not take a forwarded delivery report from a person as a bounce', async () => {
    const raw = message(
      [
        ...human.filter((h) => !h.startsWith('Content-Type')),
        'Content-Type: multipart/mixed; boundary="b"',
      ],
      `--b\nContent-Type: text/plain\n\nI got this, is my address wrong?\n--b\nContent-Type: message/delivery-status\n\n${dsn('5.1.1')}\n--b--\n`,
    );
    expect((await read(raw)).kind).toBe('reply');
  });

  it('prefers the failed recipient, reads 4.x.x as soft, and a success notice as no bounce', async () => {
    const report = (fields: string) =>
      message(
        [
          'From: MAILER-DAEMON@mx.example.com',
          'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        ],
        `--b\nContent-Type: text/plain\n\nNotice\n--b\nContent-Type: message/delivery-status\n\n${fields}\n--b--\n`,
      );
    const both = `Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@x.example\nAction: delayed\nStatus: 4.4.1\n\nFinal-Recipient: rfc822; b@x.example\nAction: failed\nStatus: 5.2.1\n`;
    expect((await read(report(both))).bounce).toMatchObject({
      recipient: 'b@x.example',
      status: '5.2.1',
      hard: true,
    });
    expect((await read(report(dsn('4.2.2', 'delayed')))).bounce).toMatchObject({ hard: false });
    expect((await read(report(dsn('2.0.0', 'delivered')))).kind).toBe('auto_reply');
    // No Status field: the status comes from the Diagnostic-Code.
    const noStatus =
      'Final-Recipient: rfc822; c@x.example\nAction: failed\nDiagnostic-Code: smtp; 550 5.7.1 blocked\n';
    expect((await read(report(noStatus))).bounce).toMatchObject({ status: '5.7.1', hard: true });
  });
});

describe('calendar replies', () => {
  const ics = (method: string, attendee: string) =>
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\n${method}BEGIN:VEVENT\r\nUID:gym-7-w03-practice@gym.exam\r\n ple.test\r\n${attendee}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
  const calendarMessage = (contentType: string, body: string) =>
    message(
      [
        ...human.filter((h) => !h.startsWith('Content-Type')),
        'Content-Type: multipart/mixed; boundary="b"',
      ],
      `--b\nContent-Type: text/plain\n\nSee attached\n--b\nContent-Type: ${contentType}\n\n${body}\n--b--\n`,
    );

  it('reads METHOD from the body when the MIME part has none, and unfolds lines', async () => {
    const got = await read(
      calendarMessage(
        'application/octet-stream; name="reply.ics"',
        ics(
          'METHOD:REPLY\r\n',
          'ATTENDEE;PARTSTAT=accepted;CN="Doe: Jane":MAILTO:Jane@Example.com',
        ),
      ),
    );
    expect(got).toMatchObject({
      kind: 'rsvp',
      rsvp: {
        uid: 'gym-7-w03-practice@gym.example.test',
        partstat: 'ACCEPTED',
        attendee: 'jane@example.com',
        sequence: 0,
      },
    });
  });

  it('does not take an invite (METHOD:REQUEST) a learner forwards as an RSVP', async () => {
    const got = await read(
      calendarMessage(
        'text/calendar; method=REQUEST',
        ics('METHOD:REQUEST\r\n', 'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:jane@example.com'),
      ),
    );
    expect(got.kind).toBe('reply');
  });

  it('parses content lines with quoted parameters', () => {
    expect(parseContentLine('ATTENDEE;CN="Turner; Zoe: x";PARTSTAT=TENTATIVE:mailto:z@x')).toEqual({
      name: 'ATTENDEE',
      params: new Map([
        ['CN', 'Turner; Zoe: x'],
        ['PARTSTAT', 'TENTATIVE'],
      ]),
      value: 'mailto:z@x',
    });
    expect(parseContentLine('no colon here')).toBeUndefined();
  });
});

describe('never throws', () => {
  const check = async (raw: Uint8Array) => {
    const mail = await parseMail(Buffer.from(raw));
    const got = classify(mail);
    expect(['reply', 'auto_reply', 'bounce', 'rsvp']).toContain(got.kind);
    expectLowerCaseAddresses(mail);
  };

  it('for arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), check), { numRuns: 300 });
  });

  it('for header-shaped text', async () => {
    const name = fc.constantFrom(
      'From',
      'To',
      'Cc',
      'Delivered-To',
      'X-Original-To',
      'Subject',
      'Date',
      'Message-ID',
      'In-Reply-To',
      'References',
      'Auto-Submitted',
      'Content-Type',
      'Content-Transfer-Encoding',
      'Precedence',
    );
    const line = fc.tuple(name, fc.string({ maxLength: 80, unit: 'binary' }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 12 }),
        fc.string({ maxLength: 400 }),
        (lines, body) =>
          check(
            message(
              lines.map(([n, v]) => `${n}: ${v}`),
              body,
            ),
          ),
      ),
      { numRuns: 300 },
    );
  });

  it('for mutated fixtures', async () => {
    const originals = fixtureFiles.map(fixture);
    const mutation = fc.record({
      which: fc.nat({ max: originals.length - 1 }),
      edits: fc.array(
        fc.record({
          at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          remove: fc.nat({ max: 64 }),
          insert: fc.uint8Array({ maxLength: 16 }),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ which, edits }) => {
        let bytes = Buffer.from(originals[which]!);
        for (const edit of edits) {
          const at = Math.floor(edit.at * bytes.length);
          bytes = Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from(edit.insert),
            bytes.subarray(at + edit.remove),
          ]);
        }
        await check(bytes);
      }),
      { numRuns: 300 },
    );
  });
});
