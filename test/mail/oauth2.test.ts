import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { configVariables, parseConfig } from '../../src/config/config.js';
import { GymError } from '../../src/errors.js';
import { mailTokens, oauth2Settings, type OAuth2Settings } from '../../src/mail/oauth2.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { startTokenServer, type TokenServer } from '../helpers/oauth2-server.js';
import { closedPort, startSmtpServer } from './helpers.js';

// Tokens expire by this clock, in the token server and in the engine alike.
let clockMs = Date.parse('2027-01-04T09:00:00Z');
const now = () => clockMs;
const mailbox = 'gym@council.example';
const m365Scope = 'https://outlook.office365.com/.default';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tokenServer(options: Partial<Parameters<typeof startTokenServer>[0]> = {}) {
  const server = await startTokenServer({ now, ...options });
  server.grantMailbox(mailbox);
  cleanups.push(() => server.close());
  return server;
}

function clientCredentials(server: TokenServer, secret = 'right-secret'): OAuth2Settings {
  return {
    kind: 'client_credentials',
    tokenUrl: server.tokenUrl,
    clientId: 'gym-app',
    clientSecret: secret,
    scope: m365Scope,
  };
}

/** What the operator would read: the one line of the error. */
async function failureOf(promise: Promise<unknown>): Promise<GymError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GymError);
  return error as GymError;
}

describe('OAuth2 tokens (client credentials, as Microsoft 365 app-only access)', () => {
  it('fetches once, serves the cache until shortly before expiry, then fetches again', async () => {
    const server = await tokenServer();
    const tokens = mailTokens(clientCredentials(server), { now });
    const first = await tokens.token(mailbox);
    expect(server.check(first, mailbox)).toEqual({ ok: true });
    // Many callers at once (pooled SMTP connections, the IMAP listener) share one request.
    const again = await Promise.all(Array.from({ length: 10 }, () => tokens.token(mailbox)));
    expect(new Set(again)).toEqual(new Set([first]));
    expect(tokens.fetches).toBe(1);

    clockMs += 58 * 60_000; // 2 minutes before the hour is up: still good
    expect(await tokens.token(mailbox)).toBe(first);
    clockMs += 60_500; // inside the last minute: a new one, before the server would refuse it
    const second = await tokens.token(mailbox);
    expect(second).not.toBe(first);
    expect(tokens.fetches).toBe(2);
    expect(server.check(second, mailbox)).toEqual({ ok: true });
  });

  it('renews a refused token once, however many connections ask at the same moment', async () => {
    const server = await tokenServer();
    const tokens = mailTokens(clientCredentials(server), { now });
    const first = await tokens.token(mailbox);
    clockMs += 10_000;
    server.revoke(first);
    const renewed = await Promise.all([tokens.renew(mailbox), tokens.renew(mailbox)]);
    expect(renewed[0]).toBe(renewed[1]);
    expect(renewed[0]).not.toBe(first);
    expect(server.check(renewed[0], mailbox)).toEqual({ ok: true });
    expect(tokens.fetches).toBe(2);
  });

  it.each([
    [
      'a wrong secret',
      'wrong',
      'valid',
      /AADSTS7000215 .*invalid client secret: create a new one in the app registration/,
    ],
    [
      'an expired secret',
      'right-secret',
      'expired',
      /AADSTS7000222 .*has expired: create a new one/,
    ],
  ] as const)(
    '%s gives one line naming the provider code and what to change',
    async (_, secret, state, line) => {
      const server = await tokenServer();
      server.setClientSecret('right-secret', state);
      const error = await failureOf(
        mailTokens(clientCredentials(server, secret), { now }).token(mailbox),
      );
      expect(error.code).toBe('OAUTH2_FAILED');
      expect(error.message).toMatch(line);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain(secret === 'wrong' ? 'wrong' : 'right-secret');
    },
  );

  it('names the client ID and the scope when those are wrong', async () => {
    const server = await tokenServer();
    const unknownApp = await failureOf(
      mailTokens({ ...clientCredentials(server), clientId: 'nobody' } as OAuth2Settings, {
        now,
      }).token(mailbox),
    );
    expect(unknownApp.message).toMatch(/AADSTS700016 .*check OAUTH2_CLIENT_ID/);
    const badScope = await failureOf(
      mailTokens(
        { ...clientCredentials(server), scope: 'https://graph.microsoft.com/Mail.Send' },
        { now },
      ).token(mailbox),
    );
    expect(badScope.message).toMatch(
      /AADSTS1002012 .*OAUTH2_SCOPE=https:\/\/outlook\.office365\.com\/\.default/,
    );
  });

  it('says when the token endpoint cannot be reached', async () => {
    const port = await closedPort();
    const settings: OAuth2Settings = {
      kind: 'client_credentials',
      tokenUrl: `http://127.0.0.1:${port}/token`,
      clientId: 'gym-app',
      clientSecret: 'right-secret',
      scope: m365Scope,
    };
    const error = await failureOf(mailTokens(settings, { now }).token(mailbox));
    expect(error.message).toMatch(
      /cannot reach the token endpoint http:\/\/127\.0\.0\.1:\d+\/token: .*ECONNREFUSED/,
    );
  });
});

describe('OAuth2 tokens (Google service account with domain-wide delegation)', () => {
  async function serviceAccount(delegatedUsers: readonly string[]) {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = await tokenServer({
      serviceAccount: {
        clientEmail: 'gym@gym-project.iam.gserviceaccount.com',
        publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        delegatedUsers,
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'gym-sa-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'key.json');
    await writeFile(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        client_email: 'gym@gym-project.iam.gserviceaccount.com',
        client_id: '1234567890',
        private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        token_uri: server.tokenUrl,
      }),
    );
    return { server, keyFile };
  }

  it('signs a JWT the server verifies, acting as the mailbox user', async () => {
    const { server, keyFile } = await serviceAccount([mailbox]);
    const settings = oauth2Settings({
      kind: 'service_account',
      keyFile,
      scope: 'https://mail.google.com/',
    });
    const tokens = mailTokens(settings, { now });
    const token = await tokens.token(mailbox);
    expect(server.check(token, mailbox)).toEqual({ ok: true });
    expect(server.check(token, 'someone.else@council.example')).toMatchObject({ ok: false });
  });

  it('says how to grant domain-wide delegation when it is missing', async () => {
    const { keyFile } = await serviceAccount([]);
    const settings = oauth2Settings({
      kind: 'service_account',
      keyFile,
      scope: 'https://mail.google.com/',
    });
    const error = await failureOf(mailTokens(settings, { now }).token(mailbox));
    expect(error.message).toMatch(
      /unauthorized_client .*Domain-wide delegation\) allow client ID 1234567890 the scope https:\/\/mail\.google\.com\//,
    );
  });

  it('refuses a key file that is not a service account key, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gym-sa-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'client.json');
    await writeFile(keyFile, JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    expect(() =>
      oauth2Settings({ kind: 'service_account', keyFile, scope: 'https://mail.google.com/' }),
    ).toThrow(
      /GOOGLE_SERVICE_ACCOUNT_FILE .*client\.json: is a "authorized_user" key where a service account key was expected/,
    );
  });
});

describe('OAuth2 configuration', () => {
  const base = {
    GYM_SECRET: randomBytes(32).toString('hex'),
    SMTP_URL: 'smtp://gym%40council.gov.uk@smtp.office365.com:587',
    IMAP_URL: 'imaps://gym%40council.gov.uk@outlook.office365.com/INBOX',
  };
  const oauth = {
    OAUTH2_TOKEN_URL: 'https://login.microsoftonline.com/tenant/oauth2/v2.0/token',
    OAUTH2_CLIENT_ID: 'app',
    OAUTH2_CLIENT_SECRET: 'very-secret-value',
    OAUTH2_SCOPE: m365Scope,
  };

  it('reads the four OAUTH2_ variables with URLs naming the mailbox user', () => {
    const result = parseConfig({ ...base, ...oauth });
    expect(result.ok && result.config.oauth2).toEqual({
      kind: 'client_credentials',
      tokenUrl: oauth.OAUTH2_TOKEN_URL,
      clientId: 'app',
      clientSecret: 'very-secret-value',
      scope: m365Scope,
    });
  });

  it('says which variable is missing, never echoing the secret', () => {
    const result = parseConfig({ ...base, ...oauth, OAUTH2_SCOPE: '' });
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).toContain('OAUTH2_SCOPE');
    expect(text).not.toContain('very-secret-value');
  });

  it('refuses a password in the URL alongside OAuth2, and both kinds at once', () => {
    const withPassword = parseConfig({
      ...base,
      ...oauth,
      SMTP_URL: 'smtp://gym%40c.uk:pw@smtp.office365.com:587',
    });
    expect(!withPassword.ok && withPassword.problems.map((p) => p.variable)).toEqual(['SMTP_URL']);
    const both = parseConfig({
      ...base,
      ...oauth,
      GOOGLE_SERVICE_ACCOUNT_FILE: '/etc/gym/key.json',
    });
    expect(!both.ok && both.problems.map((p) => p.variable)).toEqual([
      'GOOGLE_SERVICE_ACCOUNT_FILE',
    ]);
  });
});

describe('SMTP with XOAUTH2', () => {
  /** A relay that takes XOAUTH2 only, with tokens the token server issued for the mailbox. */
  async function oauthRelay(server: TokenServer) {
    const refusals: string[] = [];
    const relay = await startSmtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      authMethods: ['XOAUTH2'],
      onAuth(auth, _session, callback) {
        const verdict =
          auth.method === 'XOAUTH2'
            ? server.check(auth.accessToken ?? '', auth.username ?? '')
            : { ok: false as const, why: 'not XOAUTH2' };
        if (verdict.ok) return callback(null, { user: auth.username });
        refusals.push(verdict.why);
        return callback(null, { data: { status: '401', schemes: 'bearer', scope: m365Scope } });
      },
    });
    cleanups.push(() => relay.close());
    return { relay, refusals };
  }

  function message(n: number) {
    return {
      messageId: `<m${n}@gym.test>`,
      from: mailbox,
      to: `learner${n}@example.org`,
      raw: Buffer.from(
        `From: ${mailbox}\r\nTo: learner${n}@example.org\r\nSubject: Week 1 (${n})\r\nMessage-ID: <m${n}@gym.test>\r\n\r\nHello ${n}\r\n`,
      ),
    };
  }

  function smtp(relayPort: number, server: TokenServer, settings = clientCredentials(server)) {
    const tokens = mailTokens(settings, { now });
    // Three messages a connection, so that the wave opens new connections (and signs in again).
    const transport = createSmtpTransport({
      url: `smtp://${encodeURIComponent(mailbox)}@127.0.0.1:${relayPort}?maxMessages=3`,
      maxConnections: 2,
      oauth2: { tokens, kind: 'client_credentials' },
    });
    cleanups.push(() => transport.close());
    return { transport, tokens };
  }

  it('sends a wave with one token fetch, and carries on when the token expires mid-wave', async () => {
    const server = await tokenServer();
    const { relay, refusals } = await oauthRelay(server);
    const { transport, tokens } = smtp(relay.port, server);
    const outcomes = [];
    for (let n = 1; n <= 12; n += 1) outcomes.push(await transport.send(message(n)));
    expect(tokens.fetches).toBe(1);
    clockMs += 2 * 3600_000; // the token is long dead, at the server too
    for (let n = 13; n <= 24; n += 1) outcomes.push(await transport.send(message(n)));
    expect(outcomes.map((o) => o.status)).toEqual(Array(24).fill('sent'));
    expect(relay.received.map((m) => m.to[0])).toEqual(
      Array.from({ length: 24 }, (_, i) => `learner${i + 1}@example.org`),
    );
    expect(tokens.fetches).toBe(2);
    expect(refusals).toEqual([]);
  });

  it('renews a revoked token once and sends on, nothing lost', async () => {
    const server = await tokenServer();
    const { relay, refusals } = await oauthRelay(server);
    const { transport, tokens } = smtp(relay.port, server);
    for (let n = 1; n <= 3; n += 1) expect((await transport.send(message(n))).status).toBe('sent');
    clockMs += 30_000;
    server.revoke(server.latest()!);
    for (let n = 4; n <= 9; n += 1) expect((await transport.send(message(n))).status).toBe('sent');
    expect(relay.received).toHaveLength(9);
    expect(refusals).toContain('revoked');
    expect(tokens.fetches).toBe(2);
  });

  it("a wrong secret keeps the message for later with the provider's line as its reason", async () => {
    const server = await tokenServer();
    const { relay } = await oauthRelay(server);
    const { transport } = smtp(relay.port, server, clientCredentials(server, 'wrong'));
    const outcome = await transport.send(message(1));
    expect(outcome.status).toBe('retry');
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(
      /^OAuth2: .*AADSTS7000215 .*create a new one/,
    );
    expect(relay.received).toHaveLength(0);
  });

  it('a token refused although fresh says which mailbox permission is missing', async () => {
    const server = await tokenServer();
    const { relay } = await oauthRelay(server);
    const { transport, tokens } = smtp(relay.port, server);
    const other = 'comms@council.example'; // the application was never granted this mailbox
    const stranger = createSmtpTransport({
      url: `smtp://${encodeURIComponent(other)}@127.0.0.1:${relay.port}`,
      oauth2: { tokens, kind: 'client_credentials' },
    });
    cleanups.push(() => stranger.close());
    const outcome = await stranger.send({ ...message(1), from: other });
    expect(outcome.status).toBe('retry');
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(
      /^SMTP: the server refused a fresh OAuth2 token for comms@council\.example .*SMTP\.SendAsApp.*Add-MailboxPermission -Identity comms@council\.example/,
    );
    expect(relay.received).toHaveLength(0);
    void transport;
  });
});

describe('the example .env files for Microsoft 365 and Google Workspace', () => {
  it.each(['microsoft-365.env', 'google-workspace.env'])(
    '%s sets only variables gym reads, and signs in with OAuth2',
    async (file) => {
      const env = parseEnv(
        await readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8'),
      );
      expect(
        Object.keys(env).filter((k) => !(configVariables as readonly string[]).includes(k)),
      ).toEqual([]);
      const result = parseConfig({ ...env, GYM_SECRET: randomBytes(32).toString('hex') });
      expect(result.ok && result.config.oauth2?.kind).toBe(
        file.startsWith('google') ? 'service_account' : 'client_credentials',
      );
    },
  );
});
