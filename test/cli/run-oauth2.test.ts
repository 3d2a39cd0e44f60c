import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';
import { runGym } from '../helpers/cli.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { startTokenServer, type TokenServer } from '../helpers/oauth2-server.js';

/**
 * The whole of `gym run --once` signed in the Microsoft 365 way: no password anywhere, a
 * client-credentials token from a real token server, a relay that takes XOAUTH2 only and a
 * Dovecot whose oauth2 passdb asks the token server about every token.
 */
describeWithServers(['dovecot'], 'gym run --once with OAuth2 for SMTP and IMAP', () => {
  let tokens: TokenServer;
  let dovecot: Dovecot;
  let relay: TestSmtpServer;
  const refused: string[] = [];

  beforeAll(async () => {
    tokens = await startTokenServer({ now: Date.now });
    dovecot = await startDovecot({ oauth2IntrospectionUrl: tokens.introspectionUrl });
    tokens.grantMailbox(dovecot.user);
    relay = await startSmtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      authMethods: ['XOAUTH2'],
      // Mail for the reply address reaches the mailbox, as a real relay would deliver it.
      answerData(message) {
        if (message.to.includes(dovecot.user)) void dovecot.deliver(message.data);
        return undefined;
      },
      onAuth(auth, _session, callback) {
        const verdict = tokens.check(auth.accessToken ?? '', auth.username ?? '');
        if (verdict.ok) return callback(null, { user: auth.username });
        refused.push(verdict.why);
        return callback(null, { data: { status: '401', schemes: 'bearer' } });
      },
    });
  });
  afterAll(async () => {
    await relay?.close();
    await dovecot?.stop();
    await tokens?.close();
  });

  const mailboxUser = () => encodeURIComponent(dovecot.user);
  const env = (secret = 'right-secret') => ({
    GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-oauth2-')),
    GYM_SECRET: randomBytes(32).toString('hex'),
    GYM_FROM: `Digital Gym <${dovecot.user}>`,
    GYM_REPLY_ADDRESS: dovecot.user,
    GYM_HTTP_PORT: '0',
    SMTP_URL: `smtp://${mailboxUser()}@127.0.0.1:${relay.port}`,
    IMAP_URL: `imap://${mailboxUser()}@127.0.0.1:${dovecot.port}/INBOX`,
    OAUTH2_TOKEN_URL: tokens.tokenUrl,
    OAUTH2_CLIENT_ID: 'gym-app',
    OAUTH2_CLIENT_SECRET: secret,
    OAUTH2_SCOPE: 'https://outlook.office365.com/.default',
  });

  it('reads the replies and sends the week with one token for both servers', async () => {
    const settings = env();
    expect((await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], settings)).code).toBe(0);
    await dovecot.deliver(
      [
        'From: Priya Sharma <priya.sharma@fcdo.gov.uk>',
        `To: ${dovecot.user}`,
        'Subject: Re: Week 1',
        'Message-ID: <priya-oauth2@fcdo.gov.uk>',
        'Date: Mon, 04 Jan 2027 11:00:00 +0000',
        '',
        'Looking forward to it.',
        '',
      ].join('\r\n'),
    );
    const issuedBefore = tokens.issued;
    const run = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], settings);
    expect(run.code, run.stderr).toBe(0);
    // The Monday emails with their invites, and each manager's introduction and first digest,
    // as on the defaults (test/cli/run.test.ts): 10 + 3 + 3.
    expect(relay.received).toHaveLength(16);
    expect(run.stderr).toMatch(/"digests":\{"sent":3,.*"introduced":3\}/);
    expect(await dovecot.count('Processed')).toBe(1);
    expect(tokens.issued - issuedBefore).toBe(1);
    expect(refused).toEqual([]);
    expect(run.stderr).not.toContain(tokens.latest()!);
  });

  it('gym doctor --round-trip: every check passes, and a message to the reply address comes back', async () => {
    const settings = env();
    expect((await runGym(['migrate'], settings)).code).toBe(0);
    const doctor = await runGym(['doctor', '--json', '--round-trip', '--timeout', '120'], settings);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    const report = JSON.parse(doctor.stdout) as {
      ok: boolean;
      checks: { check: string; status: string; detail: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['configuration', 'ok'],
      ['database', 'ok'],
      ['sending', 'ok'],
      ['mailbox', 'ok'],
      ['DKIM', 'ok'],
      ['sender', 'ok'],
      ['reply address', 'ok'],
      ['round trip', 'ok'],
    ]);
    expect(report.checks.find((c) => c.check === 'sending')?.detail).toContain(
      'signed in with OAuth2',
    );
    expect(report.checks.find((c) => c.check === 'round trip')?.detail).toMatch(
      /read back from INBOX/,
    );

    const wrong = await runGym(['doctor'], { ...settings, OAUTH2_CLIENT_SECRET: 'stale' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(
      /✗ sending .*AADSTS7000215 .*create a new one in the app registration/,
    );
    expect(wrong.stdout).toMatch(/✗ mailbox .*AADSTS7000215/);
    expect(wrong.stderr).toContain('doctor: 2 checks failed (sending, mailbox)');
  });

  it('a wrong client secret is one line naming the provider code, and exit 1', async () => {
    const run = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env('stale'));
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /AADSTS7000215 .*invalid client secret: create a new one in the app registration/,
    );
    expect(run.stderr).not.toContain('stale');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack: the operator's to fix, not our bug
  });
});
