import { createPrivateKey } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { DkimConfig } from '../config/config.js';
import { GymError, messageOf } from '../errors.js';
import { explainRefusedToken, type MailTokens, type OAuth2Settings } from './oauth2.js';
import {
  closableTransport,
  type MailTransport,
  type OutboundMessage,
  type SendOutcome,
  type SendProblem,
} from './transport.js';

export interface SmtpTransportOptions {
  /** `SMTP_URL`: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://host:465`. */
  readonly url: string;
  /** Signs every message (DKIM-Signature on top of the composed bytes) when set. */
  readonly dkim?: DkimConfig | undefined;
  /** Connections kept open to the relay; 5 by default. */
  readonly maxConnections?: number | undefined;
  /** Waiting for TCP (and TLS) to connect; 30 s by default. */
  readonly connectionTimeoutMs?: number | undefined;
  /** Waiting for the server's 220 greeting; 30 s by default. */
  readonly greetingTimeoutMs?: number | undefined;
  /**
   * Silence on an open connection before it is given up; 60 s by default, longer than the others
   * because relays that scan content answer the end of DATA late.
   */
  readonly socketTimeoutMs?: number | undefined;
  /**
   * Sign in with XOAUTH2 as the URL's user, with tokens from here (shared with the IMAP
   * listener), instead of a password.
   */
  readonly oauth2?:
    { readonly tokens: MailTokens; readonly kind: OAuth2Settings['kind'] } | undefined;
}

/**
 * Sends through an SMTP relay with nodemailer's pooled transport, byte for byte what
 * `composeMessage` built (nodemailer's `raw`, with our own envelope), DKIM-signed when
 * configured. Every outcome is data (see `classifySmtpError`). The rate cap
 * (`SMTP_MAX_PER_SECOND`) is not applied here: it holds across all workers, so the dispatcher
 * takes it from PostgreSQL.
 *
 * Options in the URL's query (`?maxConnections=10`) win over these, as in nodemailer.
 *
 * @throws GymError CONFIG_INVALID when the DKIM key is not a private key: better at start than a
 *   failure on every message.
 */
export function createSmtpTransport(options: SmtpTransportOptions): SmtpTransport {
  if (options.dkim !== undefined) checkDkimKey(options.dkim);
  const oauth2 = options.oauth2;
  const oauth2User = oauth2 === undefined ? undefined : userOf(options.url);
  // Why the last token request failed, to report instead of nodemailer's bare "EAUTH".
  let tokenProblem: string | undefined;
  const mailer = createTransport({
    // With OAuth2 the URL's user is the mailbox, not a password login: nodemailer must not see it.
    url: oauth2 === undefined ? options.url : withoutUserinfo(options.url),
    ...(oauth2 === undefined || oauth2User === undefined
      ? {}
      : {
          auth: {
            type: 'OAuth2' as const,
            user: oauth2User,
            // nodemailer asks again with renew=true once when the server refuses a token.
            provisionCallback: (
              user: string,
              renew: boolean,
              callback: (error: Error | null, token?: string) => void,
            ) => {
              (renew ? oauth2.tokens.renew(user) : oauth2.tokens.token(user)).then(
                (token) => {
                  tokenProblem = undefined;
                  callback(null, token);
                },
                (error: unknown) => {
                  tokenProblem = messageOf(error);
                  callback(error instanceof Error ? error : new Error(String(error)));
                },
              );
            },
          },
        }),
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    // One immediate second try when a pooled connection dies under a message (a relay closing
    // an idle connection as we use it). More is the dispatcher's job, with backoff; nodemailer's
    // default of 5 holds a send for seconds against a relay that drops every connection.
    maxRequeues: 1,
    connectionTimeout: options.connectionTimeoutMs ?? 30_000,
    greetingTimeout: options.greetingTimeoutMs ?? 30_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    ...(options.dkim === undefined
      ? {}
      : {
          dkim: {
            domainName: options.dkim.domainName,
            keySelector: options.dkim.keySelector,
            privateKey: options.dkim.privateKey,
          },
        }),
  });
  // A pooled connection that dies between messages is reported as an event as well as to the
  // send it affects; the send's outcome is what counts, and an 'error' event without a listener
  // would end the process.
  mailer.on('error', () => {});

  const name = describeSmtpUrl(options.url, options.maxConnections ?? 5);

  async function deliver(message: OutboundMessage): Promise<SendOutcome> {
    const envelopeProblem = checkEnvelope(message);
    if (envelopeProblem !== undefined) return envelopeProblem;
    try {
      const info = await mailer.sendMail({
        envelope: { from: message.from, to: [message.to] },
        raw: message.raw,
      });
      return { status: 'sent', response: info.response };
    } catch (error) {
      return explained(classifySmtpError(error));
    }
  }

  function explained<T extends Exclude<SendOutcome, { status: 'sent' }>>(outcome: T): T {
    if (oauth2 === undefined || outcome.code !== 'EAUTH') return outcome;
    // A token we could not get, or one the relay refused although it was fresh: say which, and
    // what the operator should change.
    const reason =
      tokenProblem ??
      explainRefusedToken(
        'SMTP',
        oauth2User ?? '?',
        oauth2.kind,
        outcome.response ?? outcome.reason,
      );
    return { ...outcome, reason };
  }

  return {
    ...closableTransport(name, deliver, () => mailer.close()),
    async verify() {
      try {
        // Connects, upgrades to TLS when offered, signs in (fetching a token with OAuth2), quits.
        await mailer.verify();
        return {
          ok: true,
          detail: `${name}: connected${oauth2 === undefined ? '' : ', signed in with OAuth2'}`,
        };
      } catch (error) {
        return { ok: false, detail: `${name}: ${explained(classifySmtpError(error)).reason}` };
      }
    },
  };
}

/** An SMTP transport that can also check the connection without sending (`gym doctor`). */
export interface SmtpTransport extends MailTransport {
  /** Connect, TLS, sign in, quit: whether that worked, in one line naming the relay. */
  verify(): Promise<{ readonly ok: boolean; readonly detail: string }>;
}

/** The fields of a nodemailer error that say what went wrong. */
interface SmtpErrorFields {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly command?: unknown;
}

// The relay is not wrong about the message but we are set up wrong (credentials, TLS): every
// message would get the same answer, so keep them for when the operator has fixed it rather than
// fail them all, whatever the reply code (a bad password is a 535).
const setupCodes = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ECONFIG', 'ETLS', 'EREQUIRETLS']);
// Refused before any reply about the message: an address we could not even put on the wire.
const messageCodes = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS']);

/**
 * What a failed nodemailer send means for the delivery:
 * - a 4xx reply, a network error (refused, reset, closed, timed out, DNS) or a set-up problem
 *   (authentication, TLS): `retry`;
 * - a refusal of the envelope sender (`MAIL FROM`), whatever its code: `retry` (set-up);
 * - a 5xx reply: `failed`, except 503 (bad sequence of commands), which says the session went
 *   wrong, not the message, and goes through on a new connection: `retry`;
 * - an envelope nodemailer refused to send (no server reply): `failed`;
 * - anything else: `retry`, with the error's message, so the row records what happened.
 * The reason carries the command and the server's reply: `RCPT TO: 550 5.1.1 no such user`.
 */
export function classifySmtpError(error: unknown): Exclude<SendOutcome, { status: 'sent' }> {
  const fields: SmtpErrorFields = typeof error === 'object' && error !== null ? error : {};
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;
  const response =
    typeof fields.response === 'string' ? fields.response.replace(/\s*\r?\n\s*/g, ' ') : undefined;
  const command = typeof fields.command === 'string' ? fields.command : undefined;
  const said = response ?? messageOf(error);
  const problem: SendProblem = {
    reason: command === undefined ? said : `${command}: ${said}`,
    code,
    responseCode,
    response,
    command,
  };
  if (code !== undefined && setupCodes.has(code)) return { status: 'retry', ...problem };
  if (responseCode !== undefined && isThrottling(responseCode, response ?? '')) {
    return { status: 'retry', ...problem, throttled: true };
  }
  // A refused envelope sender is refused for every message alike (the relay does not let us
  // send as GYM_REPLY_ADDRESS): set-up as well, kept for when it is fixed, never failed for good.
  if (command !== undefined && /^MAIL FROM/i.test(command)) return { status: 'retry', ...problem };
  if (responseCode !== undefined) {
    const permanent = responseCode >= 500 && responseCode <= 599 && responseCode !== 503;
    return { status: permanent ? 'failed' : 'retry', ...problem };
  }
  if (code !== undefined && messageCodes.has(code)) return { status: 'failed', ...problem };
  return { status: 'retry', ...problem };
}

/**
 * The relay says we send too fast or over its quota, not that the message is wrong: 421 (the
 * service closes the channel), 452 with "too many", 4.7.x rate answers, and the quota answers some
 * relays give as 5xx (Gmail's "550 5.4.5 Daily user sending limit exceeded", Exchange Online's
 * "554 5.2.0 ... SubmissionQuotaExceededException"), which must not fail the learner's message.
 */
function isThrottling(responseCode: number, response: string): boolean {
  const aboutRate =
    /too many|rate limit|throttl|quota|limit exceeded|try again later|slow down|concurrent connections/i.test(
      response,
    );
  if (responseCode === 421) return true;
  // Not every 4.7.x: greylisting (451 4.7.1) is about one recipient's domain, not our rate.
  if (responseCode >= 400 && responseCode < 500) return aboutRate;
  return /\b5\.4\.5\b|SubmissionQuotaExceeded/i.test(response);
}

const bareAddress = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;

// nodemailer would split `a@x, b@y` into two recipients: a delivery goes to one address or none.
function checkEnvelope(message: OutboundMessage): SendOutcome | undefined {
  for (const [role, address] of [
    ['sender', message.from],
    ['recipient', message.to],
  ] as const) {
    if (!bareAddress.test(address)) {
      return {
        status: 'failed',
        reason: `envelope ${role} ${JSON.stringify(address)} is not one bare address`,
        code: 'EENVELOPE',
      };
    }
  }
  return undefined;
}

function checkDkimKey(dkim: DkimConfig): void {
  try {
    createPrivateKey(dkim.privateKey);
  } catch (error) {
    throw new GymError(
      'CONFIG_INVALID',
      `DKIM_PRIVATE_KEY: expected a PEM private key (-----BEGIN PRIVATE KEY----- ...), ${messageOf(error)}`,
      { variable: 'DKIM_PRIVATE_KEY' },
      { cause: error },
    );
  }
}

/** The user an SMTP_URL or IMAP_URL names, URL-decoded (`gym@council.gov.uk`); undefined when none. */
export function userOf(url: string): string | undefined {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === '' ? undefined : user;
  } catch {
    return undefined;
  }
}

function withoutUserinfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `smtp relay.example.org:587 (pooled, 5 connections)`: the URL without its credentials. */
function describeSmtpUrl(url: string, connections: number): string {
  try {
    const parsed = new URL(url);
    const secure = parsed.protocol === 'smtps:';
    const port = parsed.port || (secure ? '465' : '587');
    return `${secure ? 'smtps' : 'smtp'} ${parsed.hostname}:${port} (pooled, ${connections} connections)`;
  } catch {
    return 'smtp (unparsable SMTP_URL)';
  }
}
