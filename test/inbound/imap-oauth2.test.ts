import { afterEach, beforeEach, expect, it } from 'vitest';
import { imapSource } from '../../src/inbound/imap-source.js';
import { mailTokens } from '../../src/mail/oauth2.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { startTokenServer, type TokenServer } from '../helpers/oauth2-server.js';
import { memoryCursor, recordingHandler, recordingLog, replyMessage } from './helpers.js';

// Tokens expire by this clock, in the token server and in the engine alike.
let clockMs = Date.parse('2027-01-04T09:00:00Z');
const now = () => clockMs;

describeWithServers(['dovecot'], 'the IMAP listener signing in to Dovecot with OAuth2', () => {
  let server: TokenServer;
  let dovecot: Dovecot;

  beforeEach(async () => {
    server = await startTokenServer({ now });
    // Dovecot's oauth2 passdb asks the token server (RFC 7662) about every token it is given.
    dovecot = await startDovecot({ oauth2IntrospectionUrl: server.introspectionUrl });
  });
  afterEach(async () => {
    await dovecot?.stop();
    await server?.close();
  });

  function source(user: string, tokens = tokensFor()) {
    const recorder = recordingHandler();
    const listener = imapSource({
      // The mailbox user and no password: the token is the credential.
      url: `imap://${encodeURIComponent(user)}@127.0.0.1:${dovecot.port}/INBOX`,
      oauth2: { tokens, kind: 'client_credentials' },
      handler: recorder.handler,
      cursor: memoryCursor(),
      logger: recordingLog(),
    });
    return { listener, recorder, tokens };
  }

  function tokensFor() {
    return mailTokens(
      {
        kind: 'client_credentials',
        tokenUrl: server.tokenUrl,
        clientId: 'gym-app',
        clientSecret: 'right-secret',
        scope: 'https://outlook.office365.com/.default',
      },
      { now },
    );
  }

  it('reads replies with the token, and renews it once when the server refuses it', async () => {
    server.grantMailbox(dovecot.user);
    await dovecot.deliverAll([replyMessage('first'), replyMessage('second')]);
    const { listener, recorder, tokens } = source(dovecot.user);
    expect(await listener.poll()).toBe(2);
    expect(recorder.distinct()).toEqual(new Set(['first@example.test', 'second@example.test']));
    expect(tokens.fetches).toBe(1);

    // The administrator revokes the token: the next connection is refused, asks once for a
    // new token and reads on.
    clockMs += 30_000;
    server.revoke(server.latest()!);
    await dovecot.deliver(replyMessage('third'));
    expect(await listener.poll()).toBe(1);
    expect(recorder.distinct()).toContain('third@example.test');
    expect(tokens.fetches).toBe(2);
    expect(await dovecot.count('Processed')).toBe(3);
  });

  it('a token refused although fresh says which mailbox permission is missing', async () => {
    // The application was never granted this mailbox (no Add-MailboxPermission).
    await dovecot.deliver(replyMessage('waiting'));
    const { listener, recorder } = source(dovecot.user);
    await expect(listener.poll()).rejects.toThrow(
      /^IMAP: the server refused a fresh OAuth2 token for engine@example\.test \(.*\): give the application IMAP\.AccessAsApp .*Add-MailboxPermission -Identity engine@example\.test/,
    );
    expect(recorder.calls()).toBe(0);
    expect(await dovecot.count('INBOX')).toBe(1);
  });
});
