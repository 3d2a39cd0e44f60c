import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { smtpData } from '../../src/mail/smtp-pipeline.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import type { OutboundMessage } from '../../src/mail/transport.js';
import { reply, startSmtpServer } from './helpers.js';

/*
 * The lean pipelined client (src/mail/smtp-pipeline.ts) as the SMTP transport uses it for a plain
 * relay that offers PIPELINING and no STARTTLS or sign-in, against a real smtp-server.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startSmtpServer>[0] = {}) {
  const started = await startSmtpServer(options);
  cleanups.push(() => started.close());
  return started;
}

function transport(port: number, maxConnections = 1) {
  const created = createSmtpTransport({
    url: `smtp://127.0.0.1:${port}`,
    maxConnections,
    connectionTimeoutMs: 2_000,
    greetingTimeoutMs: 2_000,
    socketTimeoutMs: 5_000,
  });
  cleanups.push(() => created.close());
  return created;
}

function message(n: number): OutboundMessage {
  return {
    from: 'progress@example.org',
    to: `learner${n}@example.org`,
    messageId: `<m${n}@gym.test>`,
    raw: Buffer.from(
      `From: gym@example.org\r\nTo: learner${n}@example.org\r\nSubject: Week 1 (${n})\r\n` +
        `Message-ID: <m${n}@gym.test>\r\n\r\nHello ${n}\r\n.a line with a dot\r\n`,
    ),
  };
}

/** A TCP relay in front of `port` that keeps every chunk the client wrote, as it came. */
async function recordingProxy(port: number) {
  const written: string[] = [];
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      written.push(chunk.toString('latin1'));
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => proxy.close(() => done()));
  });
  return { port: (proxy.address() as AddressInfo).port, written };
}

describe('the pipelined SMTP client', () => {
  it('sends each message with one write after the first: its data, then the next envelope', async () => {
    const smtp = await server();
    const proxy = await recordingProxy(smtp.port);
    const mail = transport(proxy.port);
    const messages = Array.from({ length: 30 }, (_, i) => message(i + 1));
    const outcomes = await Promise.all(messages.map((m) => mail.send(m)));
    expect(outcomes.map((o) => o.status)).toEqual(Array(30).fill('sent'));
    // Each arrives once, byte for byte, to its own recipient.
    expect(smtp.received.map((r) => r.to)).toEqual(messages.map((m) => [m.to]));
    for (const [i, received] of smtp.received.entries())
      expect(received.data.equals(messages[i]!.raw)).toBe(true);
    // One round trip a message: the end of each message's data and the next one's MAIL FROM,
    // RCPT TO and DATA leave together.
    const streamed = proxy.written.filter((w) =>
      /\r\n\.\r\nMAIL FROM:<progress@example\.org>\r\nRCPT TO:<learner\d+@example\.org>\r\nDATA\r\n$/.test(
        w,
      ),
    );
    expect(streamed.length).toBeGreaterThanOrEqual(25);
    expect(smtp.maxConcurrentConnections()).toBe(1);
  });

  it('gives each message its own outcome when the relay refuses some mid-pipeline', async () => {
    const smtp = await server({
      onRcptTo(address, _session, callback) {
        if (address.address === 'learner3@example.org')
          return callback(reply(550, '5.1.1 no such user'));
        if (address.address === 'learner5@example.org')
          return callback(reply(451, '4.3.0 try later'));
        callback();
      },
      answerData: (received) =>
        received.to[0] === 'learner7@example.org' ? reply(554, '5.7.1 spam') : undefined,
    });
    const mail = transport(smtp.port);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => mail.send(message(i + 1))),
    );
    expect(outcomes[2]).toMatchObject({
      status: 'failed',
      reason: 'RCPT TO: 550 5.1.1 no such user',
      responseCode: 550,
      command: 'RCPT TO',
    });
    expect(outcomes[4]).toMatchObject({
      status: 'retry',
      reason: 'RCPT TO: 451 4.3.0 try later',
      responseCode: 451,
    });
    expect(outcomes[6]).toMatchObject({
      status: 'failed',
      reason: 'DATA: 554 5.7.1 spam',
      command: 'DATA',
    });
    const sent = [1, 2, 4, 6, 8, 9, 10];
    for (const n of sent) expect(outcomes[n - 1]!.status).toBe('sent');
    expect(smtp.received.map((r) => r.to[0])).toEqual(sent.map((n) => `learner${n}@example.org`));
    expect(smtp.maxConcurrentConnections()).toBe(1);
  });

  it('a connection cut mid-batch: the message it cut is retried, the next goes on a new connection, none twice', async () => {
    let drops = 0;
    const smtp = await server({
      dropDuringData: (to) => to[0] === 'learner4@example.org' && drops++ === 0,
    });
    const mail = transport(smtp.port);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => mail.send(message(i + 1))),
    );
    // Its bytes went and no answer came: the dispatcher tries it again later.
    expect(outcomes[3]).toMatchObject({ status: 'retry', code: 'ECONNECTION' });
    const others = outcomes.filter((_, i) => i !== 3);
    expect(others.map((o) => o.status)).toEqual(Array(9).fill('sent'));
    const to = smtp.received.map((r) => r.to[0]);
    expect(to.toSorted()).toEqual(
      [1, 2, 3, 5, 6, 7, 8, 9, 10].map((n) => `learner${n}@example.org`).toSorted(),
    );
    // Message 5's envelope was on the cut connection, not its data: sent once, elsewhere.
    expect(new Set(to).size).toBe(to.length);
    // The retry, once the relay takes it again.
    expect((await mail.send(message(4))).status).toBe('sent');
  });

  it('leaves a relay without PIPELINING to nodemailer, which sends as before', async () => {
    const smtp = await server({ hidePIPELINING: true });
    const proxy = await recordingProxy(smtp.port);
    const mail = transport(proxy.port, 2);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => mail.send(message(i + 1))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('sent'));
    expect(smtp.received).toHaveLength(6);
    // Without PIPELINING nodemailer waits for each reply: no write carries two commands.
    expect(proxy.written.some((w) => /MAIL FROM:.*\r\nRCPT TO/.test(w))).toBe(false);
  });
});

describe('smtpData', () => {
  it.each([
    ['a\r\nb\r\n', 'a\r\nb\r\n.\r\n'],
    ['a\r\nb', 'a\r\nb\r\n.\r\n'],
    ['.a\r\n..b\r\n.\r\n', '..a\r\n...b\r\n..\r\n.\r\n'],
    ['a\nb\r.c\r\n', 'a\r\nb\r\n..c\r\n.\r\n'],
    ['a\r', 'a\r\n.\r\n'],
  ])('%j is sent as %j', (raw, data) => {
    expect(smtpData(Buffer.from(raw)).toString('latin1')).toBe(data);
  });
});
