import DKIM from 'nodemailer/lib/dkim';
import { generateKeyPairSync } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { writeInvite } from '../../src/calendar/invite-template.js';
import type { OutgoingMessage } from '../../src/mail/compose.js';
import { learnerEmailHeaders } from '../../src/mail/headers.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { splicingComposer } from '../../src/mail/splice.js';
import { verifyDkim } from './dkim-check.js';
import { headerValues, parseHeaders, startSmtpServer } from './helpers.js';

/*
 * DKIM over spliced messages (#17): the transport signs the bytes the dispatcher spliced with
 * nodemailer's DKIM module, and the signature verifies (RFC 6376, relaxed/relaxed, checked with
 * node:crypto) for every recipient of a template, invites included.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const dkim = { domainName: 'example.org', keySelector: 'gym', privateKey: privatePem };
const mail = {
  secret: 'test-secret-0123456789abcdef0123456789abcdef',
  from: 'Digital Gym <gym@example.org>',
  replyAddress: 'progress@example.org',
  publicUrl: 'https://gym.example.org',
};

/** Recipients of one shape each: a step email and an invite, to names plain and not. */
function messages(): OutgoingMessage[] {
  const names = [
    'Sam Lee',
    'Zoë O’Brien, Jr',
    'Angharad "Haf" Rhys-Llewellyn, ŵ ŷ and a long tail',
  ];
  return names.flatMap((name, n) => {
    const envelope = learnerEmailHeaders({ ...mail, deliveryId: 10 + n, learnerId: n + 1 });
    const to = { name, email: `learner${n}@example.org` };
    const email: OutgoingMessage = {
      from: mail.from,
      to,
      replyTo: envelope.replyTo,
      subject: `Week 3: three small posts, ${name}`,
      text: `Hello ${name},\n\n. a line that starts with a dot\nWrite three posts.\n`,
      html: `<p>Hello ${name},</p>\n<p>Write three posts.</p>`.repeat(40),
      messageId: envelope.messageId,
      date: new Date('2027-01-04T09:00:00Z'),
      headers: envelope.headers,
    };
    const invite = writeInvite({
      uid: `gym-${n}-w03-practice@example.org`,
      sequence: n,
      start: new Date('2027-01-20T14:00:00Z'),
      durationMinutes: 30,
      title: `Practice, ${name}`,
      description: 'Open the draft; write.',
      organizer: { name: 'Digital Gym', email: mail.replyAddress },
      attendee: to,
      stamp: new Date('2027-01-04T09:00:00Z'),
    });
    return [
      email,
      {
        ...email,
        messageId: envelope.messageId.replace('@', 'i@'),
        subject: `Invitation: Practice, ${name}`,
        calendar: { method: 'REQUEST' as const, content: invite },
      },
    ];
  });
}

describe('DKIM over spliced messages', () => {
  it('verifies for every recipient, signed by the SMTP transport on its way to a real server', async () => {
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const transport = createSmtpTransport({ url: smtp.url, dkim });
    cleanups.push(() => transport.close());
    const splice = splicingComposer();
    const raws: Buffer[] = [];
    for (const [n, message] of messages().entries()) {
      const raw = await splice(message);
      raws.push(raw);
      const outcome = await transport.send({
        from: mail.replyAddress,
        to: message.to.email,
        raw,
        messageId: message.messageId,
      });
      expect(outcome.status, `message ${n}`).toBe('sent');
    }
    expect(smtp.received).toHaveLength(raws.length);
    for (const [n, received] of smtp.received.entries()) {
      // The spliced bytes, as they were, under the signature.
      const raw = raws[n]!;
      expect(received.data.subarray(received.data.length - raw.length).equals(raw)).toBe(true);
      expect(headerValues(parseHeaders(received.data), 'DKIM-Signature')).toHaveLength(1);
      expect(verifyDkim(received.data, publicPem), `message ${n}`).toBe(true);
    }
    // The check is a real one: a changed header or body no longer verifies.
    const first = smtp.received[0]!.data.toString('latin1');
    const tamperedTo = first.replace('To: Sam Lee', 'To: Sam Lea');
    expect(tamperedTo).not.toBe(first);
    expect(verifyDkim(Buffer.from(tamperedTo, 'latin1'), publicPem)).toBe(false);
  });

  it('verifies when signed directly with nodemailer’s DKIM module', async () => {
    const splice = splicingComposer();
    for (const message of messages()) {
      const signed = await text(new DKIM(dkim).sign(await splice(message)));
      expect(verifyDkim(Buffer.from(signed, 'latin1'), publicPem)).toBe(true);
      const body = signed.lastIndexOf('\r\n\r\n');
      const tampered = `${signed.slice(0, body)}\r\n\r\nX${signed.slice(body + 4)}`;
      expect(verifyDkim(Buffer.from(tampered, 'latin1'), publicPem)).toBe(false);
    }
  });
});
