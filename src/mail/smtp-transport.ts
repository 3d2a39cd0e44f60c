import { createPrivateKey } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { DkimConfig } from '../config/config.js';
import { GymError, messageOf } from '../errors.js';
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
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  if (options.dkim !== undefined) checkDkimKey(options.dkim);
  const mailer = createTransport({
    url: options.url,
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
      return classifySmtpError(error);
    }
  }

  return closableTransport(name, deliver, () => mailer.close());
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
