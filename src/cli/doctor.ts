import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { resolveTxt } from 'node:dns/promises';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config/config.js';
import { createDatabase, databaseConfigFor } from '../db/database.js';
import { migrationStatus } from '../db/migrate.js';
import { messageOf } from '../errors.js';
import { imapSource, parseImapUrl, type ImapMailSource } from '../inbound/imap-source.js';
import type { SourceLog } from '../inbound/source.js';
import { composeMessage } from '../mail/compose.js';
import { mailSignIn } from '../mail/create-transport.js';
import { createSmtpTransport, userOf, type SmtpTransport } from '../mail/smtp-transport.js';

/**
 * `gym doctor`: every connection the engine needs, checked the way the engine makes it, one line
 * each with what to do when it fails. Reads and writes nothing of the programme's data.
 */
export interface CheckResult {
  readonly check: string;
  /** `warn` is worth reading but does not stop a worker; `fail` does (exit 1). */
  readonly status: 'ok' | 'warn' | 'fail';
  readonly detail: string;
  /** What to do about it, when it is not ok. */
  readonly fix?: string | undefined;
}

export interface DoctorOptions {
  /** Also send a message to the reply address and wait to read it back from the mailbox. */
  readonly roundTrip?: boolean;
  /** How long the round trip waits for its message; 2 minutes by default. */
  readonly roundTripTimeoutMs?: number;
  /** Called with each result as soon as it is known (the terminal shows progress). */
  readonly onResult?: (result: CheckResult) => void;
}

const silent: SourceLog = { info: () => {}, warn: () => {}, error: () => {} };

export async function runDoctor(
  config: Config,
  options: DoctorOptions = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  report({ check: 'configuration', status: 'ok', detail: describeSetUp(config) });
  report(await checkDatabase(config));

  const signIn = mailSignIn(config);
  const smtp =
    config.smtpUrl === undefined
      ? undefined
      : createSmtpTransport({ url: config.smtpUrl, oauth2: signIn, maxConnections: 1 });
  const imap =
    config.imapUrl === undefined
      ? undefined
      : imapSource({
          url: config.imapUrl,
          oauth2: signIn,
          handler: () => Promise.resolve('processed'),
          cursor: { get: () => Promise.resolve(undefined), advance: () => Promise.resolve() },
          logger: silent,
        });
  try {
    const sending = await checkSending(config, smtp);
    report(sending);
    const replies = await checkReplies(config, imap);
    report(replies);
    for (const result of checkDkim(config)) report(result);
    const dns = await checkDkimRecord(config);
    if (dns !== undefined) report(dns);
    for (const result of checkAddresses(config)) report(result);
    if (options.roundTrip) {
      report(
        sending.status === 'fail' || replies.status === 'fail'
          ? {
              check: 'round trip',
              status: 'fail',
              detail: 'not tried: sending or the mailbox failed above',
              fix: 'fix those first',
            }
          : await checkRoundTrip(config, smtp, imap, options.roundTripTimeoutMs ?? 120_000),
      );
    }
  } finally {
    await smtp?.close();
  }
  return results;
}

function describeSetUp(config: Config): string {
  const signIn =
    config.oauth2 === undefined
      ? ''
      : config.oauth2.kind === 'client_credentials'
        ? '; OAuth2 client credentials'
        : '; OAuth2 Google service account';
  return `valid (${config.databaseUrl === undefined ? 'embedded database' : 'PostgreSQL'}, ${config.smtpUrl === undefined ? 'Maildir outbox' : 'SMTP relay'}, ${config.imapUrl === undefined ? 'Maildir inbox' : 'IMAP mailbox'}${signIn})`;
}

async function checkDatabase(config: Config): Promise<CheckResult> {
  const check = 'database';
  let database;
  try {
    database = await createDatabase(databaseConfigFor(config));
  } catch (error) {
    return {
      check,
      status: 'fail',
      detail: messageOf(error),
      fix: 'check DATABASE_URL and that the server is up',
    };
  }
  try {
    await sql`select 1`.execute(database.db);
    const pending = (await migrationStatus(database.db)).filter((m) => m.appliedAt === undefined);
    if (pending.length > 0) {
      return {
        check,
        status: 'fail',
        detail: `${database.location}: ${pending.length} migration(s) not applied (${pending.map((m) => m.name).join(', ')})`,
        fix: 'run gym migrate',
      };
    }
    return { check, status: 'ok', detail: `${database.location}: reachable, migrations applied` };
  } catch (error) {
    return {
      check,
      status: 'fail',
      detail: `${database.location}: ${messageOf(error)}`,
      fix: 'check DATABASE_URL and that the server is up',
    };
  } finally {
    await database.close();
  }
}

async function checkSending(config: Config, smtp: SmtpTransport | undefined): Promise<CheckResult> {
  const check = 'sending';
  if (smtp === undefined)
    return writableFolder(check, join(config.dataDir, 'outbox'), 'Maildir outbox');
  const verified = await smtp.verify();
  return verified.ok
    ? { check, status: 'ok', detail: verified.detail }
    : {
        check,
        status: 'fail',
        detail: verified.detail,
        fix: 'check SMTP_URL (host, port, smtps:// for TLS on 465) and the sign-in; docs/operators-guide.md',
      };
}

async function checkReplies(
  config: Config,
  imap: ImapMailSource | undefined,
): Promise<CheckResult> {
  const check = 'mailbox';
  if (imap === undefined)
    return writableFolder(check, join(config.dataDir, 'inbox'), 'Maildir inbox');
  const verified = await imap.verify();
  return verified.ok
    ? { check, status: 'ok', detail: verified.detail }
    : {
        check,
        status: 'fail',
        detail: verified.detail,
        fix: 'check IMAP_URL (host, port, imaps:// for TLS on 993, the mailbox) and the sign-in; docs/operators-guide.md',
      };
}

async function writableFolder(check: string, dir: string, what: string): Promise<CheckResult> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return { check, status: 'ok', detail: `${what} ${dir} (embedded default)` };
  } catch (error) {
    return {
      check,
      status: 'fail',
      detail: `${what} ${dir}: ${messageOf(error)}`,
      fix: 'set GYM_DATA_DIR to a folder this user can write',
    };
  }
}

function checkDkim(config: Config): CheckResult[] {
  const check = 'DKIM';
  const dkim = config.dkim;
  if (dkim === undefined) {
    return [
      {
        check,
        status: 'ok',
        detail: 'off (the relay may sign for you: Microsoft 365 and Google Workspace do)',
      },
    ];
  }
  try {
    createPrivateKey(dkim.privateKey);
  } catch (error) {
    return [
      {
        check,
        status: 'fail',
        detail: `DKIM_PRIVATE_KEY does not parse: ${messageOf(error)}`,
        fix: 'paste the PEM private key (-----BEGIN PRIVATE KEY-----), \\n for line breaks',
      },
    ];
  }
  // DMARC passes on DKIM only when the signing domain aligns with the From domain.
  const fromDomain = domainOf(config.from);
  const aligned =
    fromDomain === dkim.domainName || fromDomain?.endsWith(`.${dkim.domainName}`) === true;
  return [
    aligned
      ? {
          check,
          status: 'ok',
          detail: `key parses; signs d=${dkim.domainName}, aligned with GYM_FROM`,
        }
      : {
          check,
          status: 'fail',
          detail: `signs d=${dkim.domainName} but GYM_FROM is @${fromDomain ?? '?'}: DMARC would not count the signature`,
          fix: 'set DKIM_DOMAIN to the domain of GYM_FROM (or a parent of it)',
        },
  ];
}

/** The published key must be the public half of ours; a lookup that fails here is only a warning. */
async function checkDkimRecord(config: Config): Promise<CheckResult | undefined> {
  const dkim = config.dkim;
  if (dkim === undefined) return undefined;
  const check = 'DKIM record';
  const name = `${dkim.keySelector}._domainkey.${dkim.domainName}`;
  let ours: string;
  try {
    ours = createPublicKey(createPrivateKey(dkim.privateKey))
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
  } catch {
    return undefined; // reported by checkDkim
  }
  const publish = `publish TXT ${name} "v=DKIM1; k=rsa; p=${ours}"`;
  try {
    const records = (await resolveTxt(name)).map((chunks) => chunks.join(''));
    const published = records
      .map((record) => /(?:^|;)\s*p=([^;]*)/.exec(record)?.[1]?.replace(/\s+/g, ''))
      .filter((p): p is string => p !== undefined);
    if (published.includes(ours))
      return { check, status: 'ok', detail: `${name} publishes our key` };
    return {
      check,
      status: 'fail',
      detail: `${name} publishes another key (${published.length} record(s))`,
      fix: publish,
    };
  } catch (error) {
    return {
      check,
      status: 'warn',
      detail: `could not look up ${name}: ${messageOf(error)}`,
      fix: publish,
    };
  }
}

function checkAddresses(config: Config): CheckResult[] {
  const results: CheckResult[] = [];
  const fromAddress = addressOf(config.from);
  const local = (address: string | undefined) => address?.endsWith('@localhost') ?? true;
  if (config.smtpUrl !== undefined && local(fromAddress)) {
    results.push({
      check: 'sender',
      status: 'fail',
      detail: `GYM_FROM is ${config.from}: nobody can reply to it`,
      fix: 'set GYM_FROM to the mailbox that sends, e.g. "Digital Gym <gym@council.gov.uk>"',
    });
  } else if (config.oauth2 !== undefined && config.smtpUrl !== undefined) {
    const user = userOf(config.smtpUrl);
    results.push(
      user !== undefined && user.toLowerCase() !== fromAddress?.toLowerCase()
        ? {
            check: 'sender',
            status: 'warn',
            detail: `GYM_FROM is ${fromAddress ?? config.from} but the relay signs in as ${user}`,
            fix: `Microsoft 365 and Google send only as the signed-in mailbox or an address it may send as: use ${user}, or grant Send As`,
          }
        : {
            check: 'sender',
            status: 'ok',
            detail: `${fromAddress ?? config.from}, the signed-in mailbox`,
          },
    );
  } else {
    results.push({ check: 'sender', status: 'ok', detail: fromAddress ?? config.from });
  }
  if (config.imapUrl !== undefined) {
    const reader = parseImapUrl(config.imapUrl).auth.user;
    if (local(config.replyAddress)) {
      results.push({
        check: 'reply address',
        status: 'fail',
        detail: `GYM_REPLY_ADDRESS is ${config.replyAddress}: replies cannot reach ${reader}`,
        fix: `set GYM_REPLY_ADDRESS to the address delivered to ${reader} (often the same)`,
      });
    } else if (reader.includes('@') && reader.toLowerCase() !== config.replyAddress.toLowerCase()) {
      results.push({
        check: 'reply address',
        status: 'warn',
        detail: `replies go to ${config.replyAddress}; the listener reads ${reader}`,
        fix: `make sure mail to ${config.replyAddress} (and its +plus addresses) is delivered to ${reader}, or run gym doctor --round-trip`,
      });
    } else {
      results.push({
        check: 'reply address',
        status: 'ok',
        detail: `${config.replyAddress}, the mailbox the listener reads`,
      });
    }
  }
  return results;
}

/**
 * Sends a message to the reply address, as a learner's reply would travel, and waits to read it
 * back. It says Auto-Submitted, so a worker that reads it first files it as a robot's mail, with
 * no effect; the doctor looks for it in the mailbox, Processed and Failed alike.
 */
async function checkRoundTrip(
  config: Config,
  smtp: SmtpTransport | undefined,
  imap: ImapMailSource | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const check = 'round trip';
  if (smtp === undefined || imap === undefined) {
    return {
      check,
      status: 'fail',
      detail:
        'needs SMTP_URL and IMAP_URL: the embedded Maildir outbox and inbox are not connected',
      fix: 'configure both, then run gym doctor --round-trip again',
    };
  }
  const nonce = randomBytes(8).toString('hex');
  const domain = config.replyAddress.split('@')[1] ?? 'localhost';
  const messageId = `<doctor.${nonce}@${domain}>`;
  const raw = await composeMessage({
    from: config.from,
    to: { name: 'Digital Gym doctor', email: config.replyAddress },
    replyTo: config.replyAddress,
    subject: `gym doctor round trip ${nonce}`,
    text: 'gym doctor sent this to check that replies reach the mailbox. It has no effect; delete it when you like.\n',
    messageId,
    date: new Date(),
  });
  const started = Date.now();
  const sent = await smtp.send({
    from: addressOf(config.from) ?? config.replyAddress,
    to: config.replyAddress,
    raw,
    messageId,
  });
  if (sent.status !== 'sent') {
    return {
      check,
      status: 'fail',
      detail: `sending to ${config.replyAddress}: ${sent.reason}`,
      fix: 'see the sending line above',
    };
  }
  while (Date.now() - started < timeoutMs) {
    try {
      const folder = await imap.find(messageId);
      if (folder !== undefined) {
        return {
          check,
          status: 'ok',
          detail: `sent to ${config.replyAddress} and read back from ${folder} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        };
      }
    } catch (error) {
      return {
        check,
        status: 'fail',
        detail: `reading the mailbox: ${messageOf(error)}`,
        fix: 'see the mailbox line above',
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return {
    check,
    status: 'fail',
    detail: `sent ${messageId} to ${config.replyAddress}, not in the mailbox after ${Math.round(timeoutMs / 1000)} s`,
    fix: `check that mail to ${config.replyAddress} is delivered to the mailbox in IMAP_URL (rules, quarantine, junk folder)`,
  };
}

function addressOf(mailbox: string): string | undefined {
  const match = /<([^<>]+)>\s*$/.exec(mailbox) ?? /^\s*([^\s<>]+@[^\s<>]+)\s*$/.exec(mailbox);
  return match?.[1];
}

function domainOf(mailbox: string): string | undefined {
  return addressOf(mailbox)?.split('@')[1]?.toLowerCase();
}
