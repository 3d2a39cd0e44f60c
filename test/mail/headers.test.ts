import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser';
import { describe, expect, it } from 'vitest';
import { composeMessage, type OutgoingMessage } from '../../src/mail/compose.js';
import {
  deliveryFromMessageId,
  domainOf,
  learnerEmailHeaders,
  messageIdFor,
  unsubscribeUrlFor,
  type LearnerEmailHeadersInput,
} from '../../src/mail/headers.js';
import {
  signUnsubscribeToken,
  tokenFromAddress,
  unsubscribeTokenFromAddress,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../../src/mail/tokens.js';
import { headerValues, parseHeaders } from './helpers.js';

const secret = 'test-secret-0123456789abcdef0123456789abcdef';
const base: LearnerEmailHeadersInput = {
  secret,
  from: 'Digital Gym <gym@example.org>',
  replyAddress: 'progress@example.org',
  publicUrl: 'https://gym.example.org',
  deliveryId: 1234,
  learnerId: 56,
};

function message(changes: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    from: base.from,
    to: { name: 'Ana Lopez', email: 'ana.lopez@example.gov.uk' },
    subject: 'Week 1: listen before you talk',
    text: 'Set up three saved searches.\n',
    html: '<p>Set up three saved searches.</p>',
    date: new Date('2027-01-04T09:00:00Z'),
    ...learnerEmailHeaders(base),
    ...changes,
  };
}

describe('learner email headers', () => {
  it('carry the delivery, the reply token and both unsubscribe links', () => {
    const headers = learnerEmailHeaders(base);
    expect(headers).toMatchInlineSnapshot(`
      {
        "headers": {
          "Auto-Submitted": "auto-generated",
          "List-Unsubscribe": "<mailto:progress+u11kaogrlakmlbozxjmx@example.org?subject=unsubscribe>, <https://gym.example.org/unsubscribe/11kaogrlakmlbozxjmx>",
          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
          "X-Auto-Response-Suppress": "OOF, AutoReply",
        },
        "messageId": "<d1234.7vohrmhpzooo4@example.org>",
        "replyTo": "progress+1yak67c3g2jfsnrly6c@example.org",
      }
    `);
    const token = tokenFromAddress(headers.replyTo, base.replyAddress)!;
    expect(verifyReplyToken(secret, token)).toEqual({ ok: true, deliveryId: 1234 });
    const mailto = /<mailto:([^?>]+)\?/.exec(headers.headers['List-Unsubscribe']!)![1]!;
    const unsubscribe = unsubscribeTokenFromAddress(mailto, base.replyAddress)!;
    expect(verifyUnsubscribeToken(secret, unsubscribe)).toEqual({ ok: true, learnerId: 56 });
  });

  it('offer only the mailto link without a public URL, and no one-click over plain HTTP', () => {
    const none = learnerEmailHeaders({ ...base, publicUrl: undefined }).headers;
    expect(none['List-Unsubscribe']).toMatch(/^<mailto:[^>]+>$/);
    expect(none['List-Unsubscribe-Post']).toBeUndefined();
    const http = learnerEmailHeaders({ ...base, publicUrl: 'http://localhost:8080' }).headers;
    expect(http['List-Unsubscribe']).toContain('<http://localhost:8080/unsubscribe/');
    expect(http['List-Unsubscribe-Post']).toBeUndefined();
  });

  it('link to the unsubscribe endpoint under a public URL with a path', () => {
    const token = signUnsubscribeToken(secret, { learnerId: 1 });
    expect(unsubscribeUrlFor('https://example.org/gym', token)).toBe(
      `https://example.org/gym/unsubscribe/${token}`,
    );
    expect(unsubscribeUrlFor('https://example.org/gym/', token)).toBe(
      `https://example.org/gym/unsubscribe/${token}`,
    );
  });
});

describe('Message-ID', () => {
  it('is the same for every attempt of a delivery and different for any other', () => {
    expect(learnerEmailHeaders(base).messageId).toBe(learnerEmailHeaders(base).messageId);
    expect(learnerEmailHeaders({ ...base, deliveryId: 1235 }).messageId).not.toBe(
      learnerEmailHeaders(base).messageId,
    );
    expect(learnerEmailHeaders({ ...base, revision: 1 }).messageId).toMatch(
      /^<d1234r1\.[a-z2-7]{13}@example\.org>$/,
    );
    expect(learnerEmailHeaders({ ...base, secret: `${secret}x` }).messageId).not.toBe(
      learnerEmailHeaders(base).messageId,
    );
  });

  it('leads back to its delivery, and only when we made it', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: 1000 }),
        (deliveryId, revision) => {
          const id = messageIdFor(secret, { deliveryId, domain: 'example.org', revision });
          expect(deliveryFromMessageId(secret, id)).toEqual({ deliveryId, revision });
          expect(deliveryFromMessageId(secret, id.toUpperCase())).toEqual({
            deliveryId,
            revision,
          });
          expect(deliveryFromMessageId(`${secret}x`, id)).toBeUndefined();
          const forged = id.replace(/^<d\d+/, `<d${deliveryId + 1}`);
          expect(deliveryFromMessageId(secret, forged)).toBeUndefined();
        },
      ),
    );
  });

  it('reads anything without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.anything()), (input) => {
        expect(deliveryFromMessageId(secret, input as string)).toBeUndefined();
      }),
    );
  });

  it.each([
    ['Digital Gym <gym@Example.ORG>', 'example.org'],
    ['gym@example.org', 'example.org'],
    ['"Gym, the" <gym@sub.example.org>', 'sub.example.org'],
    ['Gym <gym@bücher.example>', 'xn--bcher-kva.example'],
  ])('is on the domain of %j', (from, domain) => {
    expect(domainOf(from)).toBe(domain);
  });
});

/** The message's header block with its random MIME boundary made stable, for snapshots. */
async function headerBlock(outgoing: OutgoingMessage): Promise<string> {
  const raw = (await composeMessage(outgoing)).toString('latin1');
  return raw
    .slice(0, raw.indexOf('\r\n\r\n'))
    .replace(/boundary="[^"]+"/, 'boundary="BOUNDARY"')
    .replace(/\r\n/g, '\n');
}

describe('a composed learner email', () => {
  it('has the header block we mean it to have', async () => {
    expect(await headerBlock(message())).toMatchInlineSnapshot(`
      "Auto-Submitted: auto-generated
      X-Auto-Response-Suppress: OOF, AutoReply
      List-Unsubscribe:
       <mailto:progress+u11kaogrlakmlbozxjmx@example.org?subject=unsubscribe>,
       <https://gym.example.org/unsubscribe/11kaogrlakmlbozxjmx>
      List-Unsubscribe-Post: List-Unsubscribe=One-Click
      From: Digital Gym <gym@example.org>
      To: Ana Lopez <ana.lopez@example.gov.uk>
      Reply-To: progress+1yak67c3g2jfsnrly6c@example.org
      Subject: Week 1: listen before you talk
      Message-ID: <d1234.7vohrmhpzooo4@example.org>
      Date: Mon, 04 Jan 2027 09:00:00 +0000
      MIME-Version: 1.0
      Content-Type: multipart/alternative;
       boundary="BOUNDARY""
    `);
  });

  it('has CRLF line ends and nothing else, invite included', async () => {
    const raw = await composeMessage(
      message({
        text: 'one\ntwo\r\nthree\rfour\n',
        html: '<p>one</p>\n<p>two</p>',
        calendar: {
          method: 'REQUEST',
          content: 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n',
        },
      }),
    );
    expect(raw.toString('latin1')).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  });

  const expectedFields = [
    'auto-submitted',
    'content-type',
    'date',
    'from',
    'list-unsubscribe',
    'list-unsubscribe-post',
    'message-id',
    'mime-version',
    'reply-to',
    'subject',
    'to',
    'x-auto-response-suppress',
  ];

  // eslint-disable-next-line no-control-regex -- the characters composeMessage takes out
  const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

  /** Every field once, no other field, and the one recipient we meant. */
  async function expectIntact(outgoing: OutgoingMessage): Promise<void> {
    const raw = await composeMessage(outgoing);
    const fields = parseHeaders(raw);
    // nodemailer leaves out a Subject with nothing in it but white space and control characters.
    const blank = outgoing.subject.replace(controls, ' ').trim() === '';
    expect(fields.map((f) => f.name.toLowerCase()).sort()).toEqual(
      blank ? expectedFields.filter((f) => f !== 'subject') : expectedFields,
    );
    expect(headerValues(fields, 'Subject')).toHaveLength(blank ? 0 : 1);
    const to = addressparser(headerValues(fields, 'To')[0]);
    expect(to).toHaveLength(1);
    expect(to[0]).toMatchObject({ address: outgoing.to.email });
    expect(headerValues(fields, 'Reply-To')).toEqual([outgoing.replyTo]);
    expect(headerValues(fields, 'Message-ID')).toEqual([outgoing.messageId]);
  }

  it.each([
    ['a header in the first name', 'Sam\r\nBcc: evil@x', 'Week 1'],
    ['a bare LF in the name', 'Sam\nX-Injected: 1', 'Week 1'],
    ['a bare CR in the name', 'Sam\rX-Injected: 1', 'Week 1'],
    ['a header in the subject', 'Sam', 'Week 1\nX-Injected: 1'],
    ['CRLF CRLF in the subject', 'Sam', 'Week 1\r\n\r\n<html>body'],
    ['quotes and an address in the name', '"Sam" <evil@x>, other@y', 'Week 1'],
    ['markup', '<script>alert(1)</script>', '<script>alert("x")</script>'],
    ['non-ASCII', 'Zoë Ñúñez 名前 🙂', 'Semaine 1 : écouter — 聞く'],
    ['Unicode line breaks', 'Sam\u2028X-Injected: 1\u0085', 'Week\u20291\u000bX: 1'],
    [
      'an encoded word lookalike',
      '=?utf-8?q?Sam=0D=0ABcc:_evil@x?=',
      '=?utf-8?b?DQpYLUluamVjdGVkOiAx?=',
    ],
    ['a very long name', 'Sam '.repeat(80), 'Week 1 '.repeat(40)],
  ])('stays intact with %s', async (_, name, subject) => {
    await expectIntact(message({ to: { name, email: 'sam@example.org' }, subject }));
  });

  it('stays intact whatever the name and subject', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
        async (name, subject) => {
          await expectIntact(message({ to: { name, email: 'sam@example.org' }, subject }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
