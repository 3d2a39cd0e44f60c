import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { GymError } from '../../src/errors.js';
import { composeMessage } from '../../src/mail/compose.js';
import { createMailTransport } from '../../src/mail/create-transport.js';
import { learnerEmailHeaders } from '../../src/mail/headers.js';
import { classifySmtpError, createSmtpTransport } from '../../src/mail/smtp-transport.js';
import type { OutboundMessage } from '../../src/mail/transport.js';
import { verifyDkim } from './dkim-check.js';
import {
  closedPort,
  headerValues,
  parseHeaders,
  reply,
  startSmtpServer,
  startTcpServer,
} from './helpers.js';

const secret = 'test-secret-0123456789abcdef0123456789abcdef';
const fastTimeouts = {
  connectionTimeoutMs: 2_000,
  greetingTimeoutMs: 2_000,
  socketTimeoutMs: 5_000,
};

// Each test registers what it opened; closed whatever the test's outcome.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startSmtpServer>[0] = {}) {
  const started = await startSmtpServer(options);
  cleanups.push(() => started.close());
  return started;
}

function transport(url: string, options: Partial<Parameters<typeof createSmtpTransport>[0]> = {}) {
  const created = createSmtpTransport({ url, ...fastTimeouts, ...options });
  cleanups.push(() => created.close());
  return created;
}

/** A learner email as the dispatcher would compose it; lines starting with dots test stuffing. */
async function learnerEmail(deliveryId: number, to = `learner${deliveryId}@example.org`) {
  const headers = learnerEmailHeaders({
    secret,
    from: 'Digital Gym <gym@example.org>',
    replyAddress: 'progress@example.org',
    publicUrl: 'https://gym.example.org',
    deliveryId,
    learnerId: deliveryId,
  });
  const raw = await composeMessage({
    from: 'Digital Gym <gym@example.org>',
    to: { name: `Learner ${deliveryId}`, email: to },
    subject: `Week 1: listen before you talk (${deliveryId})`,
    text: `.a line starting with a dot\n..and two\n.\nZoë's assignment\n`,
    html: '<p>Set up three saved searches.</p>\n.<p>dot</p>',
    date: new Date('2027-01-04T09:00:00Z'),
    ...headers,
  });
  return {
    from: 'progress@example.org',
    to,
    raw,
    messageId: headers.messageId,
  } satisfies OutboundMessage;
}

describe('the SMTP transport', () => {
  it('delivers the exact bytes with our envelope', async () => {
    const smtp = await server();
    const mail = transport(smtp.url);
    // Bodies are base64 now, so dot-stuffing is proved by the hand-made message below.
    const message = await learnerEmail(1);
    const outcome = await mail.send(message);
    expect(outcome.status).toBe('sent');
    expect(outcome.status === 'sent' && outcome.response).toMatch(/^250 /);
    expect(smtp.received).toHaveLength(1);
    const [received] = smtp.received;
    expect(received!.from).toBe('progress@example.org');
    expect(received!.to).toEqual(['learner1@example.org']);
    expect(received!.data.equals(message.raw)).toBe(true);
  });

  it('delivers a hand-made message with a lone dot line and no final line break intact', async () => {
    const smtp = await server();
    const mail = transport(smtp.url);
    const raw = Buffer.from(
      'From: gym@example.org\r\nTo: a@example.org\r\nSubject: dots\r\nMessage-ID: <x@example.org>\r\n\r\n' +
        'before\r\n.\r\n..\r\n. \r\nafter',
    );
    const outcome = await mail.send({
      from: 'gym@example.org',
      to: 'a@example.org',
      raw,
      messageId: '<x@example.org>',
    });
    expect(outcome.status).toBe('sent');
    // SMTP ends DATA with CRLF.CRLF, so a message that does not end in CRLF gets one.
    expect(smtp.received[0]!.data.toString()).toBe(`${raw.toString()}\r\n`);
  });

  it('retries a 4xx with the server reply, the code and the command', async () => {
    const smtp = await server({
      onRcptTo(_address, _session, callback) {
        callback(reply(451, '4.3.0 try later'));
      },
    });
    const outcome = await transport(smtp.url).send(await learnerEmail(2));
    expect(outcome).toEqual({
      status: 'retry',
      reason: 'RCPT TO: 451 4.3.0 try later',
      code: 'EENVELOPE',
      responseCode: 451,
      response: '451 4.3.0 try later',
      command: 'RCPT TO',
    });
    expect(smtp.received).toHaveLength(0);
  });

  it('fails a 5xx for good with the server reply', async () => {
    const smtp = await server({
      onRcptTo(_address, _session, callback) {
        callback(reply(550, '5.1.1 no such user'));
      },
    });
    const outcome = await transport(smtp.url).send(await learnerEmail(3));
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'RCPT TO: 550 5.1.1 no such user',
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 5.1.1 no such user',
      command: 'RCPT TO',
    });
  });

  it('fails a message refused after DATA, and retries one deferred there', async () => {
    let answer = reply(554, '5.7.1 spam');
    const smtp = await server({ answerData: () => answer });
    const mail = transport(smtp.url);
    expect(await mail.send(await learnerEmail(4))).toMatchObject({
      status: 'failed',
      responseCode: 554,
      response: '554 5.7.1 spam',
      command: 'DATA',
      reason: 'DATA: 554 5.7.1 spam',
    });
    answer = reply(450, '4.7.0 greylisted');
    expect(await mail.send(await learnerEmail(5))).toMatchObject({
      status: 'retry',
      responseCode: 450,
      reason: 'DATA: 450 4.7.0 greylisted',
    });
    expect(smtp.received).toHaveLength(0);
  });

  it('retries when the server accepts the connection and drops it', async () => {
    const dropper = await startTcpServer((socket) => socket.destroy());
    cleanups.push(() => dropper.close());
    const outcome = await transport(`smtp://127.0.0.1:${dropper.port}`).send(await learnerEmail(6));
    expect(outcome).toMatchObject({ status: 'retry', code: 'ECONNECTION' });
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(/closed/i);
  });

  it('retries when the server drops the connection in the middle of DATA', async () => {
    const smtp = await server({ dropDuringData: true });
    const outcome = await transport(smtp.url).send(await learnerEmail(6));
    expect(outcome).toMatchObject({ status: 'retry', code: 'ECONNECTION' });
    expect(smtp.received).toHaveLength(0);
  });

  it('retries a refused connection', async () => {
    const port = await closedPort();
    const outcome = await transport(`smtp://127.0.0.1:${port}`).send(await learnerEmail(7));
    expect(outcome).toMatchObject({ status: 'retry', code: 'ESOCKET' });
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(/ECONNREFUSED/);
  });

  it('retries a server that never greets, after the greeting timeout', async () => {
    const silent = await startTcpServer(() => {});
    cleanups.push(() => silent.close());
    const outcome = await transport(`smtp://127.0.0.1:${silent.port}`, {
      greetingTimeoutMs: 200,
    }).send(await learnerEmail(8));
    expect(outcome).toMatchObject({ status: 'retry', code: 'ETIMEDOUT' });
  });

  it('sends 200 messages over at most 5 pooled connections, each arriving once', async () => {
    const smtp = await server();
    const mail = transport(smtp.url);
    const messages = await Promise.all(Array.from({ length: 200 }, (_, i) => learnerEmail(i + 1)));
    const outcomes = await Promise.all(messages.map((m) => mail.send(m)));
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    expect(smtp.received).toHaveLength(200);
    const ids = smtp.received.map((r) => headerValues(parseHeaders(r.data), 'Message-ID')[0]);
    expect(new Set(ids).size).toBe(200);
    expect(new Set(ids)).toEqual(new Set(messages.map((m) => m.messageId)));
    for (const received of smtp.received) {
      const sent = messages.find((m) => received.data.equals(m.raw));
      expect(sent?.to).toBe(received.to[0]);
    }
    expect(smtp.maxConcurrentConnections()).toBeLessThanOrEqual(5);
    expect(smtp.maxConcurrentConnections()).toBeGreaterThan(1);
  });

  it('signs with DKIM when configured, leaving the composed bytes as they were', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const smtp = await server();
    const mail = transport(smtp.url, {
      dkim: {
        domainName: 'example.org',
        keySelector: 'gym',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const message = await learnerEmail(9);
    expect((await mail.send(message)).status).toBe('sent');
    const data = smtp.received[0]!.data;
    expect(data.subarray(data.length - message.raw.length).equals(message.raw)).toBe(true);
    const signature = headerValues(parseHeaders(data), 'DKIM-Signature');
    expect(signature).toHaveLength(1);
    expect(verifyDkim(data, publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(
      true,
    );
    // The check is a real one: a changed body no longer verifies.
    const tampered = Buffer.from(data.toString('latin1').replace('three', 'four'), 'latin1');
    expect(verifyDkim(tampered, publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(
      false,
    );
  });

  it('refuses a DKIM key that is not a key, at start', () => {
    let error: unknown;
    try {
      createSmtpTransport({
        url: 'smtp://127.0.0.1:25',
        dkim: { domainName: 'example.org', keySelector: 'gym', privateKey: 'not a key' },
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(GymError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', isUserError: true });
    expect((error as GymError).message).toMatch(/^DKIM_PRIVATE_KEY: expected a PEM private key/);
  });

  it('fails an envelope of more than one address without asking the server', async () => {
    const smtp = await server();
    const message = await learnerEmail(10);
    const outcome = await transport(smtp.url).send({
      ...message,
      to: 'a@example.org, b@example.org',
    });
    expect(outcome).toMatchObject({ status: 'failed', code: 'EENVELOPE' });
    expect(smtp.received).toHaveLength(0);
  });

  it('finishes what is in flight on close, then refuses to send', async () => {
    const smtp = await server();
    const mail = createSmtpTransport({ url: smtp.url, ...fastTimeouts });
    const messages = await Promise.all([1, 2, 3].map((i) => learnerEmail(i)));
    let settled = 0;
    const outcomes = messages.map((m) => mail.send(m).finally(() => (settled += 1)));
    await mail.close(); // called before any of the three has even connected
    expect(settled).toBe(3);
    expect((await Promise.all(outcomes)).map((o) => o.status)).toEqual(['sent', 'sent', 'sent']);
    expect(smtp.received).toHaveLength(3);
    expect(() => mail.send(messages[0]!)).toThrow(
      expect.objectContaining({ code: 'MAIL_INVALID' }),
    );
  });

  it('is named without its credentials', () => {
    const mail = createSmtpTransport({ url: 'smtp://user:secret@relay.example.org:2525' });
    cleanups.push(() => mail.close());
    expect(mail.name).toBe('smtp relay.example.org:2525 (pooled, 5 connections)');
  });
});

describe('createMailTransport', () => {
  it('chooses SMTP when SMTP_URL is set', async () => {
    const smtp = await server();
    const mail = createMailTransport(
      { smtpUrl: smtp.url, dkim: undefined, dataDir: '/nonexistent' },
      fastTimeouts,
    );
    cleanups.push(() => mail.close());
    expect(mail.name).toBe(`smtp 127.0.0.1:${smtp.port} (pooled, 5 connections)`);
    expect((await mail.send(await learnerEmail(11))).status).toBe('sent');
    expect(smtp.received).toHaveLength(1);
  });

  it('chooses the Maildir outbox under the data folder otherwise', () => {
    const mail = createMailTransport({
      smtpUrl: undefined,
      dkim: undefined,
      dataDir: '/srv/gym/.gym',
    });
    expect(mail.name).toBe('maildir /srv/gym/.gym/outbox');
  });
});

describe('classifySmtpError', () => {
  it.each([
    [
      {
        code: 'EAUTH',
        responseCode: 535,
        response: '535 5.7.8 bad credentials',
        command: 'AUTH PLAIN',
      },
      'retry',
    ],
    [{ code: 'ETLS', message: 'self-signed certificate' }, 'retry'],
    [
      {
        code: 'EENVELOPE',
        responseCode: 503,
        response: '503 5.5.1 bad sequence',
        command: 'RCPT TO',
      },
      'retry',
    ],
    [{ code: 'EPROTOCOL', responseCode: 250, response: '250 ok?' }, 'retry'],
    [
      { code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 too big', command: 'DATA' },
      'failed',
    ],
    [{ code: 'EENVELOPE', message: 'No recipients defined' }, 'failed'],
    [{ code: 'ESOCKET', message: 'connect ECONNRESET' }, 'retry'],
    [new Error('something odd'), 'retry'],
    ['not even an error', 'retry'],
  ])('%j is %s', (error, status) => {
    expect(classifySmtpError(error).status).toBe(status);
  });

  it('keeps a multi-line reply on one line', () => {
    expect(
      classifySmtpError({
        responseCode: 550,
        response: '550-5.1.1 no such user\r\n550 5.1.1 see https://example.org',
        command: 'RCPT TO',
      }).reason,
    ).toBe('RCPT TO: 550-5.1.1 no such user 550 5.1.1 see https://example.org');
  });
});
