import { createPrivateKey } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import DKIM from 'nodemailer/lib/dkim';
import { isTransientError } from 'nodemailer/lib/errors';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import type { DkimConfig } from '../config/config.js';
import { GymError, messageOf } from '../errors.js';
import { explainRefusedToken, type MailTokens, type OAuth2Settings } from './oauth2.js';
import { openPipeline, type PipelinedConnection } from './smtp-pipeline.js';
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
 * Sends through an SMTP relay, byte for byte what `composeMessage` built, with our own envelope,
 * DKIM-signed when configured. Every outcome is data (see `classifySmtpError`). The rate cap
 * (`SMTP_MAX_PER_SECOND` and the rest) is not applied here: it holds across all workers, so the
 * dispatcher takes it from PostgreSQL.
 *
 * Two clients, one pool of our own that keeps every connection busy with the next queued message:
 * - a plain connection with no sign-in to a relay that offers PIPELINING and not STARTTLS (a local
 *   Postfix, the bench's sink): the lean pipelined client of smtp-pipeline.ts, one round trip a
 *   message;
 * - anywhere else nodemailer's `SMTPConnection`, with its TLS, STARTTLS, AUTH and XOAUTH2 (and its
 *   own pipelined envelope when offered): two round trips a message.
 * `npm run bench -- --smtp-only` measured, on one sink with 26 KB messages, client CPU per
 * message: nodemailer's pooled transport 1.4 to 1.7 ms (every pre-built message goes through its
 * message builder and streams), `SMTPConnection` used directly 0.29 to 0.34 ms, this transport
 * 0.21 ms, a bare raw client 0.10 to 0.14 ms.
 *
 * Options in the URL's query (`?maxConnections=10`, `?maxMessages=50`) win over these, as in
 * nodemailer.
 *
 * @throws GymError CONFIG_INVALID when the DKIM key is not a private key: better at start than a
 *   failure on every message.
 */
export function createSmtpTransport(options: SmtpTransportOptions): SmtpTransport {
  if (options.dkim !== undefined) checkDkimKey(options.dkim);
  const oauth2 = options.oauth2;
  const fromUrl = parseConnectionUrl(options.url) as ConnectionSettings;
  const settings: ConnectionSettings = {
    connectionTimeout: options.connectionTimeoutMs ?? 30_000,
    greetingTimeout: options.greetingTimeoutMs ?? 30_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    ...fromUrl,
  };
  const maxConnections = positive(settings.maxConnections) ?? options.maxConnections ?? 5;
  // A fresh connection every so many messages, as nodemailer's pool does: some relays cap the
  // messages of one session.
  const maxMessages = positive(settings.maxMessages) ?? 100;
  // With OAuth2 the URL's user is the mailbox, not a password login.
  const oauth2User = oauth2 === undefined ? undefined : userOf(options.url);
  // Why the last token request failed, to report instead of nodemailer's bare "EAUTH".
  let tokenProblem: string | undefined;
  const dkim =
    options.dkim === undefined
      ? undefined
      : new DKIM({
          domainName: options.dkim.domainName,
          keySelector: options.dkim.keySelector,
          privateKey: options.dkim.privateKey,
        });

  /**
   * The sign-in of a new connection. With OAuth2, a token generator of its own, as in
   * nodemailer's pool: nodemailer's keeps the last token until its own idea of expiry, ours
   * (`MailTokens`, shared with the IMAP listener) knows better.
   */
  function signIn(): SMTPConnection.AuthenticationType | undefined {
    if (oauth2 !== undefined && oauth2User !== undefined) {
      // nodemailer asks again with renew=true once when the server refuses a token.
      const xoauth2 = new XOAuth2({
        user: oauth2User,
        provisionCallback: (user, renew, callback) => {
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
      });
      // The failure reaches the login as well; unheard, the event would end the process.
      xoauth2.on('error', () => {});
      return { type: 'OAuth2', user: oauth2User, oauth2: xoauth2, method: 'XOAUTH2' };
    }
    const user = fromUrl.auth?.user;
    const pass = fromUrl.auth?.pass;
    if (!user && !pass) return undefined;
    return {
      type: 'LOGIN',
      user,
      credentials: { user: user ?? '', pass: pass ?? '' },
      method: false,
    };
  }

  /** Connects, upgrades to TLS when offered or asked, and signs in when there is a sign-in. */
  function connectNodemailer(): Promise<SMTPConnection> {
    return new Promise((resolve, reject) => {
      // With OAuth2 nodemailer must not see the URL's user as a password login.
      const { auth: _ignored, ...connectionOptions } = settings;
      const connection = new SMTPConnection(connectionOptions);
      let settled = false;
      const settle = (error: Error | null | undefined) => {
        if (settled) return;
        settled = true;
        if (error === undefined || error === null) resolve(connection);
        else {
          connection.close();
          reject(error);
        }
      };
      connection.on('error', (error: Error) => settle(error));
      connection.once('end', () =>
        settle(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })),
      );
      connection.connect((error) => {
        if (error) return settle(error);
        const auth = signIn();
        if (auth === undefined || !(connection.allowsAuth || settings.forceAuth === true))
          return settle(undefined);
        connection.login(auth, (loginError) => settle(loginError));
      });
    });
  }

  // The lean pipelined client (smtp-pipeline.ts) where it is safe: a plain connection with no
  // sign-in, to a relay that offers PIPELINING and not STARTTLS. The first connection finds out;
  // anywhere else nodemailer's SMTPConnection, with its TLS and sign-in, carries every message.
  let lean =
    !settings.secure &&
    settings.requireTLS !== true &&
    oauth2 === undefined &&
    signIn() === undefined &&
    settings.proxy === undefined &&
    typeof settings.host === 'string';

  async function connect(): Promise<Connected> {
    if (lean) {
      const opened = await openPipeline({
        host: settings.host!,
        port: Number(settings.port ?? 587),
        name: typeof settings.name === 'string' ? settings.name : hostname(),
        connectionTimeoutMs: settings.connectionTimeout ?? 30_000,
        greetingTimeoutMs: settings.greetingTimeout ?? 30_000,
        socketTimeoutMs: settings.socketTimeout ?? 60_000,
        ignoreTls: settings.ignoreTLS === true,
      });
      if ('connection' in opened) return { kind: 'pipelined', connection: opened.connection };
      lean = false;
    }
    return { kind: 'nodemailer', connection: await connectNodemailer() };
  }

  const pool = connectionPool({ connect, maxConnections, maxMessages });

  async function deliver(message: OutboundMessage): Promise<SendOutcome> {
    const envelopeProblem = checkEnvelope(message);
    if (envelopeProblem !== undefined) return envelopeProblem;
    let raw = message.raw;
    if (dkim !== undefined) {
      try {
        raw = await signed(dkim, raw);
      } catch (error) {
        return { status: 'retry', reason: `DKIM: ${messageOf(error)}`, code: 'EDKIM' };
      }
    }
    const result = await pool.send({ from: message.from, to: [message.to] }, raw);
    if (result.ok) return { status: 'sent', response: result.response };
    return explained(classifySmtpError(result.error));
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

  const name = describeSmtpUrl(options.url, maxConnections);
  return {
    ...closableTransport(name, deliver, () => pool.close()),
    async verify() {
      try {
        // Connects, upgrades to TLS when offered, signs in (fetching a token with OAuth2), quits.
        const connected = await connect();
        if (connected.kind === 'nodemailer') connected.connection.quit();
        else connected.connection.close();
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

/** What `SMTP_URL` and our options give `SMTPConnection`, and the pool's own settings. */
type ConnectionSettings = SMTPConnection.Options & {
  auth?: { user?: string; pass?: string };
  maxConnections?: unknown;
  maxMessages?: unknown;
  forceAuth?: unknown;
  proxy?: unknown;
};

/** A connection open to the relay, by the client that suits it. */
type Connected =
  | { readonly kind: 'nodemailer'; readonly connection: SMTPConnection }
  | { readonly kind: 'pipelined'; readonly connection: PipelinedConnection };

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The message with its DKIM-Signature on top, by nodemailer's signer. */
async function signed(dkim: DKIM, raw: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of dkim.sign(raw)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type PoolResult =
  | { readonly ok: true; readonly response: string }
  | { readonly ok: false; readonly error: unknown };

interface Job {
  readonly envelope: { readonly from: string; readonly to: string[] };
  readonly raw: Buffer;
  readonly done: (result: PoolResult) => void;
  /** Already handed once to a connection that turned out dead: not again. */
  requeued: boolean;
}

interface Link {
  readonly connected: Connected;
  messages: number;
  /** Closed by the server, a timeout or us: never handed another message. */
  dead: boolean;
}

/**
 * Up to `maxConnections` connections, each given the next queued message as soon as it is free:
 * with enough messages in flight every connection stays busy. A connection is opened only when a
 * message waits for one, retired after `maxMessages`, and dropped when it fails.
 *
 * A message goes to the relay once, with one exception, as in nodemailer's pool: a connection
 * that died before a byte of this message went (a relay closing a connection it found idle, or
 * one cut while the message's envelope was on its way) hands the message to another connection,
 * once. A message whose bytes went without an answer is not sent again here: the dispatcher
 * retries it later, with backoff.
 */
function connectionPool(options: {
  connect: () => Promise<Connected>;
  maxConnections: number;
  maxMessages: number;
}) {
  const queue: Job[] = [];
  const idle: Link[] = [];
  const links = new Set<Link>();
  let opening = 0;
  let closed = false;

  const retire = (link: Link, politely = false) => {
    if (!links.delete(link)) return;
    link.dead = true;
    const at = idle.indexOf(link);
    if (at >= 0) idle.splice(at, 1);
    const { connected } = link;
    if (connected.kind === 'pipelined') connected.connection.close();
    else if (politely) connected.connection.quit();
    else connected.connection.close();
  };

  const requeue = (job: Job, error: unknown) => {
    if (job.requeued || closed) return job.done({ ok: false, error });
    job.requeued = true;
    queue.unshift(job);
  };

  const pump = () => {
    if (closed) return;
    while (queue.length > 0 && idle.length > 0) run(idle.pop()!, queue.shift()!);
    while (queue.length > opening && links.size + opening < options.maxConnections) {
      opening += 1;
      options.connect().then(
        (connected) => {
          opening -= 1;
          const link: Link = { connected, messages: 0, dead: false };
          links.add(link);
          if (connected.kind === 'nodemailer') {
            // Between messages the connection can die (idle timeout, the relay hanging up): it
            // is then not reused. A message in flight hears of it from its send.
            connected.connection.on('error', () => retire(link));
            connected.connection.once('end', () => retire(link));
          }
          if (closed) return retire(link, true);
          idle.push(link);
          pump();
        },
        (error: unknown) => {
          opening -= 1;
          // The message that asked for this connection gets the reason (refused, no greeting,
          // a failed sign-in); the others ask again on a connection of their own.
          queue.shift()?.done({ ok: false, error });
          pump();
        },
      );
    }
  };

  const release = (link: Link) => {
    if (link.dead) return pump();
    if (link.messages >= options.maxMessages || closed) retire(link, true);
    else idle.push(link);
    pump();
  };

  const run = (link: Link, job: Job) => {
    link.messages += 1;
    const { connected } = link;
    if (connected.kind === 'pipelined') {
      // The connection takes the next queued message itself when this one's data goes, so
      // that its envelope rides along.
      const next = () => {
        if (closed || link.messages >= options.maxMessages) return undefined;
        const taken = queue.shift();
        if (taken !== undefined) link.messages += 1;
        return taken;
      };
      void connected.connection
        .run(job, next, (finished, outcome) => {
          const taken = finished as Job;
          if (outcome.kind === 'sent') taken.done({ ok: true, response: outcome.response });
          else if (outcome.kind === 'failed') taken.done({ ok: false, error: outcome.error });
          else requeue(taken, outcome.error);
        })
        .then((state) => {
          if (state === 'free') return release(link);
          retire(link);
          pump();
        });
      return;
    }
    const reused = link.messages > 1;
    // A stream, not the buffer, to know whether the connection had started on the message.
    const body = Readable.from([job.raw]);
    connected.connection.send(job.envelope, body, (error, info) => {
      if (!error) {
        job.done({ ok: true, response: info.response });
        return release(link);
      }
      if (reused && !job.requeued && !body.readableDidRead && isTransientError(error)) {
        retire(link);
        requeue(job, error);
        return pump();
      }
      job.done({ ok: false, error });
      const refusedMessage =
        (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') &&
        error.responseCode !== 421 &&
        !link.dead;
      if (!refusedMessage) {
        retire(link);
        return pump();
      }
      // The relay refused this message, the session is fine: reset it and go on.
      connected.connection.reset((resetError) => {
        if (resetError) retire(link);
        release(link);
      });
    });
  };

  return {
    send(envelope: Job['envelope'], raw: Buffer): Promise<PoolResult> {
      return new Promise((done) => {
        queue.push({ envelope, raw, done, requeued: false });
        pump();
      });
    },
    /** Quits every connection; called once nothing is in flight. */
    close() {
      closed = true;
      for (const link of [...links]) retire(link, true);
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
