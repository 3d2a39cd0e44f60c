/**
 * The SMTP clients `npm run bench` compares on the same sink with the same pre-built messages,
 * to choose the production transport by figures: nodemailer's pooled transport (`sendMail` with
 * `raw`), nodemailer's `SMTPConnection` used directly with every connection kept busy, and our
 * transport (`createSmtpTransport`) as the dispatcher uses it. The raw clients (the machine's
 * limit) are in raw-smtp.ts.
 */
import { createTransport } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { createSmtpTransport } from '../src/mail/smtp-transport.js';
import type { RawRunResult } from './raw-smtp.js';

const from = 'progress@gym.bench.test';
const to = (i: number) => `learner${i}@bench.example.gov.uk`;

/** `inFlight` sends kept going until the deadline, each taking the next message. */
async function keepBusy(
  inFlight: number,
  durationMs: number,
  send: (i: number) => Promise<void>,
): Promise<RawRunResult> {
  let sent = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  const lane = async () => {
    while (performance.now() < deadline) {
      await send(next++);
      sent += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return { sent, elapsedMs: performance.now() - started, cpuMicros: cpu.user + cpu.system };
}

/**
 * nodemailer's pooled transport as it comes (`pool: true`, `maxConnections`), two messages in
 * flight per connection so that none waits for its next.
 */
export async function nodemailerPoolRun(options: {
  port: number;
  connections: number;
  durationMs: number;
  messages: readonly Buffer[];
}): Promise<RawRunResult> {
  const mailer = createTransport({
    host: '127.0.0.1',
    port: options.port,
    pool: true,
    maxConnections: options.connections,
    ignoreTLS: true,
  });
  try {
    return await keepBusy(options.connections * 2, options.durationMs, async (i) => {
      await mailer.sendMail({
        envelope: { from, to: [to(i)] },
        raw: options.messages[i % options.messages.length]!,
      });
    });
  } finally {
    mailer.close();
  }
}

/** nodemailer's `SMTPConnection` directly: one connection per lane, one message after another. */
export async function smtpConnectionRun(options: {
  port: number;
  connections: number;
  durationMs: number;
  messages: readonly Buffer[];
}): Promise<RawRunResult> {
  const connections = await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const connection = new SMTPConnection({ host: '127.0.0.1', port: options.port });
      connection.on('error', () => {});
      await new Promise<void>((resolve, reject) =>
        connection.connect((error) => (error ? reject(error) : resolve())),
      );
      return connection;
    }),
  );
  let lane = 0;
  const free = [...connections];
  try {
    return await keepBusy(options.connections, options.durationMs, async (i) => {
      const connection = free.pop() ?? connections[lane++ % connections.length]!;
      try {
        await new Promise<void>((resolve, reject) =>
          connection.send(
            { from, to: [to(i)] },
            options.messages[i % options.messages.length]!,
            (error) => (error ? reject(error) : resolve()),
          ),
        );
      } finally {
        free.push(connection);
      }
    });
  } finally {
    for (const connection of connections) connection.quit();
  }
}

/** Our transport (src/mail/smtp-transport.ts) with `inFlight` sends at once, as the dispatcher. */
export async function oursRun(options: {
  port: number;
  connections: number;
  inFlight: number;
  durationMs: number;
  messages: readonly Buffer[];
}): Promise<RawRunResult> {
  const transport = createSmtpTransport({
    url: `smtp://127.0.0.1:${options.port}`,
    maxConnections: options.connections,
  });
  try {
    return await keepBusy(options.inFlight, options.durationMs, async (i) => {
      const outcome = await transport.send({
        from,
        to: to(i),
        raw: options.messages[i % options.messages.length]!,
        messageId: `<raw${i}.bench@gym.bench.test>`,
      });
      if (outcome.status !== 'sent') throw new Error(`our transport: ${outcome.reason}`);
    });
  } finally {
    await transport.close();
  }
}
