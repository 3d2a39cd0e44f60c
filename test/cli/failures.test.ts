import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGym, startGym, type CliResult } from '../helpers/cli.js';
import { closedPort, reply, startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/**
 * Monday 4 January 2027, noon UTC: ten messages, three manager introductions and then three
 * digests are due for the example cohort (a manager's digest waits for their introduction).
 */
const clock = '2027-01-04T12:00:00Z';
const relayPassword = 'relay-password-9f3k';
const imapPassword = 'imap-password-77x';

/** A data directory with the example cohort enrolled, and settings for real servers. */
async function enrolledEnv(extra: Record<string, string>): Promise<Record<string, string>> {
  const env = {
    GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-failures-')),
    GYM_HTTP_PORT: '0',
    GYM_SECRET: randomBytes(32).toString('hex'),
    ...extra,
  };
  const enrolled = await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], env);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  return env;
}

/** The one line a failing command leaves for the user, checked to be the only one of its kind. */
function oneLine(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('gym:'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  return lines[0]!;
}

describe('gym run --once when the relay refuses everything', () => {
  let smtp: TestSmtpServer;
  let refusing = true;

  beforeAll(async () => {
    smtp = await startSmtpServer({
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username });
      },
      onMailFrom(_address, _session, callback) {
        callback(refusing ? reply(550, '5.7.1 this relay does not know you') : undefined);
      },
    });
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it('exits 1 with one line naming the relay and its answer, never the password; the messages wait', async () => {
    const env = await enrolledEnv({
      SMTP_URL: `smtp://gym:${relayPassword}@127.0.0.1:${smtp.port}`,
    });
    const refused = await runGym(['run', '--once', '--clock', clock], env);
    expect(refused.code).toBe(1);
    expect(oneLine(refused)).toMatch(
      new RegExp(
        `^gym: the SMTP relay 127\\.0\\.0\\.1:${smtp.port} took none of the 13 messages: MAIL FROM: 550 5\\.7\\.1 this relay does not know you; nothing was sent\\. Check SMTP_URL and the relay`,
      ),
    );
    expect(refused.stderr + refused.stdout).not.toContain(relayPassword);
    expect(smtp.received).toHaveLength(0);

    // The relay is fixed: the same messages go at the next run (none was failed for good), and
    // the digests that waited behind the refused introductions go after them.
    refusing = false;
    const sent = await runGym(['run', '--once', '--clock', '2027-01-04T12:10:00Z'], env);
    expect(sent.code, sent.stderr).toBe(0);
    expect(smtp.received).toHaveLength(16);
    expect(sent.stderr).toMatch(/"digests":\{"sent":3,.*"introduced":3\}/);
  });

  it('exits 1 with one line when nothing listens at the relay’s address', async () => {
    const port = await closedPort();
    const env = await enrolledEnv({ SMTP_URL: `smtp://gym:${relayPassword}@127.0.0.1:${port}` });
    const result = await runGym(['run', '--once', '--clock', clock], env);
    expect(result.code).toBe(1);
    expect(oneLine(result)).toMatch(
      new RegExp(
        `^gym: the SMTP relay 127\\.0\\.0\\.1:${port} took none of the 13 messages: .*ECONNREFUSED`,
      ),
    );
    expect(result.stderr).not.toContain(relayPassword);
  });
});

describe('an IMAP server that cannot be reached', () => {
  it('gym run --once exits 1 with one line naming the mailbox, not a stack', async () => {
    const port = await closedPort();
    const env = await enrolledEnv({
      IMAP_URL: `imap://engine%40gym.test:${imapPassword}@127.0.0.1:${port}/INBOX`,
    });
    const result = await runGym(['run', '--once', '--clock', clock], env);
    expect(result.code).toBe(1);
    expect(oneLine(result)).toMatch(
      new RegExp(
        `^gym: cannot read the mailbox engine@gym\\.test@127\\.0\\.0\\.1:${port}/INBOX: .*ECONNREFUSED.*; check IMAP_URL`,
      ),
    );
    expect(result.stderr).not.toContain(imapPassword);
  });

  it('gym run keeps going, and /healthz answers 503 naming the mailbox and the relay', async () => {
    const [imapPort, smtpPort] = [await closedPort(), await closedPort()];
    const env = await enrolledEnv({
      IMAP_URL: `imap://engine:${imapPassword}@127.0.0.1:${imapPort}/INBOX`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    });
    const worker = startGym(['run', '--clock', clock], env);
    const started = await worker.waitForLog(/"msg":"dispatcher started"/);
    const http = (JSON.parse(started) as { http: string }).http;
    await worker.waitForLog(/"msg":"cannot reach the mailbox engine@127\.0\.0\.1:\d+\/INBOX: /);
    await worker.waitForLog(/"msg":"the SMTP relay 127\.0\.0\.1:\d+ took none of the \d+ messages/);
    const response = await fetch(`${http.replace('0.0.0.0', '127.0.0.1')}/healthz`);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toMatch(/^unavailable\n/);
    expect(body).toMatch(
      new RegExp(`^relay: the SMTP relay 127\\.0\\.0\\.1:${smtpPort} took none`, 'm'),
    );
    expect(body).toMatch(
      new RegExp(
        `^mailbox: cannot reach the mailbox engine@127\\.0\\.0\\.1:${imapPort}/INBOX: `,
        'm',
      ),
    );
    expect(body).not.toContain(imapPassword);
    const stopped = await worker.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});
