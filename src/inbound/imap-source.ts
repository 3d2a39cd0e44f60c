import type { ImapFlow } from 'imapflow';
import { redactUrl } from '../config/redact-url.js';
import { GymError, messageOf } from '../errors.js';
import type { MailboxCursor } from '../db/mailbox-store.js';
import { backoff } from '../mail/backoff.js';
import { explainRefusedToken, type MailTokens, type OAuth2Settings } from '../mail/oauth2.js';
import {
  drainInOrder,
  type InboundBatchHandler,
  type InboundHandler,
  type InboundVerdict,
  type MailSource,
  type SourceLog,
} from './source.js';

/** Where the mailbox is: what an IMAP_URL says. */
export interface ImapAddress {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (imaps, usually port 993). Otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly auth: { readonly user: string; readonly pass: string };
  readonly mailbox: string;
}

/**
 * Reads an IMAP_URL: `imap://user:password@host:port/INBOX` (cleartext or STARTTLS, port 143 by
 * default) or `imaps://...` (implicit TLS, port 993). The user and password are URL-encoded
 * (`engine%40example.org`); the path is the mailbox, INBOX when there is none.
 *
 * @example parseImapUrl('imaps://me%40example.org:pw@imap.example.org/Replies')
 *   // { host: 'imap.example.org', port: 993, secure: true, mailbox: 'Replies', auth: {...} }
 */
export function parseImapUrl(url: string): ImapAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url, 'it is not a URL');
  }
  const secure = parsed.protocol === 'imaps:';
  if (!secure && parsed.protocol !== 'imap:') {
    throw invalidUrl(url, `the scheme is ${parsed.protocol} where imap: or imaps: was expected`);
  }
  if (parsed.hostname === '') throw invalidUrl(url, 'it names no host');
  if (parsed.username === '') throw invalidUrl(url, 'it names no user');
  const port = parsed.port === '' ? (secure ? 993 : 143) : Number(parsed.port);
  const path = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  return {
    // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    secure,
    auth: {
      user: decodeURIComponent(parsed.username),
      pass: decodeURIComponent(parsed.password),
    },
    mailbox: path === '' ? 'INBOX' : path,
  };
}

function invalidUrl(url: string, why: string): GymError {
  // Never echo the password back into a log or a terminal.
  const shown = redactUrl(url);
  return new GymError(
    'CONFIG_INVALID',
    `IMAP_URL ${shown} cannot be used: ${why}; write it as imap://user:password@host:port/INBOX ` +
      '(imaps:// for TLS on port 993, user and password URL-encoded)',
    { url: shown },
  );
}

export interface ImapSourceOptions {
  /** An IMAP_URL; host, port, secure, auth and mailbox below override its parts. */
  readonly url?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly secure?: boolean | undefined;
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /**
   * Sign in with an OAuth2 token (XOAUTH2 / OAUTHBEARER) as the URL's user instead of a password,
   * from the process's shared tokens: a refused token is renewed once per connection attempt.
   */
  readonly oauth2?:
    { readonly tokens: MailTokens; readonly kind: OAuth2Settings['kind'] } | undefined;
  /** The mailbox replies arrive in; INBOX by default. */
  readonly mailbox?: string | undefined;
  /** Where handled messages go (created when missing); `Processed` by default. */
  readonly processedMailbox?: string | undefined;
  /** Where unreadable messages go (created when missing); `Failed` by default. */
  readonly failedMailbox?: string | undefined;
  readonly handler: InboundHandler;
  /** When given, each fetched batch is handed over at once (`handleInboundBatch`), then filed. */
  readonly batchHandler?: InboundBatchHandler | undefined;
  readonly cursor: MailboxCursor;
  /**
   * The cursor's row: `user@host/mailbox` by default, so that two accounts sharing a database
   * never share a position.
   */
  readonly cursorKey?: string | undefined;
  readonly logger: SourceLog;
  /**
   * Told when the listener connects (`undefined`) and when a connection fails or is lost (the
   * reason, one line naming the server): what /healthz reports about the mailbox.
   */
  readonly onStatus?: ((problem: string | undefined) => void) | undefined;
  /**
   * How often to look for new messages whatever IDLE says (1 minute by default): a watchdog for
   * a connection that died without a word (a NAT timeout, a server that froze), which IDLE alone
   * would wait on for the socket timeout.
   */
  readonly pollIntervalMs?: number | undefined;
  /** IDLE is ended and begun again this often (5 minutes by default), as RFC 9051 advises. */
  readonly maxIdleTimeMs?: number | undefined;
  /** Quiet time after a drain before IDLE starts (2 seconds by default). */
  readonly idleDelayMs?: number | undefined;
  /** A command the server has not answered by then means the connection is dead (30 s). */
  readonly commandTimeoutMs?: number | undefined;
  /** The wait between reconnects: capped exponential with jitter (1 s doubling up to 5 min). */
  readonly backoff?:
    | {
        readonly baseMs?: number | undefined;
        readonly maxMs?: number | undefined;
        readonly random?: (() => number) | undefined;
      }
    | undefined;
}

interface WaitingMessage {
  readonly uid: number;
  readonly size: number;
}

// A drain fetches message sources in batches: enough to save round trips, few enough that a
// mailbox of large attachments is not read into memory at once.
const batchMessages = 50;
const batchBytes = 20 * 1024 * 1024;
const movesRefusedBeforeSkipping = 3;

/**
 * The session can still carry commands. ImapFlow's `usable` alone is not enough: after an
 * untagged BYE it sets the state to LOGOUT at once but closes (and clears `usable`) only later.
 */
function isAlive(client: ImapFlow): boolean {
  return client.usable && client.state !== client.states.LOGOUT && client.byeReason === undefined;
}

/**
 * The IMAP listener of `gym run`: a supervisor that keeps one connection to the mailbox open,
 * reads new messages as IDLE announces them (and on a timer, in case IDLE went quiet), hands
 * each to the handler, files it in `Processed` or `Failed`, and records its UID in the cursor.
 *
 * - An ImapFlow instance serves one connection only; after any close the supervisor makes a new
 *   one, waiting a capped, jittered exponential backoff that resets once a connection has done
 *   useful work. `stop()` ends that.
 * - Drains never overlap: a trigger during a drain queues one more, and further triggers join it.
 * - Within a drain, the UIDs above the cursor are listed first and the sources fetched in
 *   batches (`drainInOrder`: the next batch is fetched while the handler records the one
 *   before); the moves run only after each fetch has ended, because an IMAP command issued
 *   inside ImapFlow's fetch iterator waits for the fetch forever.
 * - Per message: handler, then move, then cursor. A crash in between hands the message over
 *   again, which the handler's Message-ID check makes harmless. A new UIDVALIDITY (the server
 *   renumbered the mailbox) restarts from UID 1 for the same reason.
 *
 * Only one worker should run this per mailbox: see `holdMailboxLock`.
 */
export function imapSource(options: ImapSourceOptions): ImapMailSource {
  const address = resolveAddress(options);
  const { mailbox } = address;
  const processedMailbox = options.processedMailbox ?? 'Processed';
  const failedMailbox = options.failedMailbox ?? 'Failed';
  const cursorKey = options.cursorKey ?? `${address.auth.user}@${address.host}/${mailbox}`;
  const log = options.logger;
  const pollIntervalMs = options.pollIntervalMs ?? 60_000;
  const maxIdleTimeMs = options.maxIdleTimeMs ?? 5 * 60_000;
  const idleDelayMs = options.idleDelayMs ?? 2000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  const backoffOptions = {
    baseMs: options.backoff?.baseMs ?? 1000,
    maxMs: options.backoff?.maxMs ?? 5 * 60_000,
    random: options.backoff?.random ?? Math.random,
  };
  const where = { mailbox, host: address.host, port: address.port };

  let started = false;
  let stopping = false;
  let current: ImapFlow | undefined;
  let connecting: ImapFlow | undefined;
  let supervisor: Promise<void> | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let wakeFromBackoff: (() => void) | undefined;
  // Failed connections in a row; reset by a connection that did useful work.
  let failures = 0;
  let connections = 0;
  // Why we closed a connection ourselves (a command timed out), for the disconnect log.
  const closeReasons = new WeakMap<ImapFlow, string>();
  // MOVEs the server refused, by `uidValidity:uid`.
  const refusals = new Map<string, number>();

  // Drains run one after another: `lastDrain` is the tail of the chain, `queuedDrain` a drain
  // waiting its turn that every new trigger joins.
  let lastDrain: Promise<unknown> = Promise.resolve();
  let queuedDrain: Promise<number> | undefined;

  function requestDrain(): Promise<number> {
    if (queuedDrain !== undefined) return queuedDrain;
    const next = lastDrain.then(async () => {
      queuedDrain = undefined;
      const connection = current;
      if (connection === undefined || !isAlive(connection) || stopping) return 0;
      try {
        return await drain(connection);
      } catch (error) {
        // Logged here, once, however many triggers joined this drain.
        if (stopping) throw error;
        if (isAlive(connection)) {
          // The handler's database being down, say: the message stays for the next trigger.
          log.error(
            { ...where, err: messageOf(error) },
            'reading the mailbox failed; the message stays there for the next try',
          );
        } else {
          // The supervisor reports the lost connection and reconnects; the next drain resumes.
          log.warn({ ...where, err: messageOf(error) }, 'the lost connection cut a drain short');
        }
        throw error;
      }
    });
    queuedDrain = next;
    lastDrain = next.catch(() => {});
    return next;
  }

  function drainInBackground() {
    // Failures were logged by requestDrain; the next trigger tries again.
    requestDrain().catch(() => {});
  }

  type Credentials = { user: string; pass: string } | { user: string; accessToken: string };
  // The server refused the last connection's token: the next attempt asks for a new one.
  let tokenRefused = false;

  async function credentials(): Promise<Credentials> {
    const { user, pass } = address.auth;
    if (options.oauth2 === undefined) return { user, pass };
    const { tokens } = options.oauth2;
    const accessToken = tokenRefused ? await tokens.renew(user) : await tokens.token(user);
    tokenRefused = false;
    return { user, accessToken };
  }

  /** Notes a refused token; with OAuth2 the error becomes one line saying what to change. */
  function explainConnectError(error: unknown): unknown {
    const refused = (error as { authenticationFailed?: unknown }).authenticationFailed === true;
    if (!refused || options.oauth2 === undefined) return error;
    tokenRefused = true;
    const said = (error as { response?: unknown }).response;
    return new GymError(
      'OAUTH2_FAILED',
      explainRefusedToken(
        'IMAP',
        address.auth.user,
        options.oauth2.kind,
        typeof said === 'string' && said !== '' ? said : messageOf(error),
      ),
      { mailbox: `${address.host}/${mailbox}` },
      { cause: error },
    );
  }

  async function newClient(auth: Credentials): Promise<ImapFlow> {
    // Loaded when a mailbox is first opened: only the worker that reads replies pays for it.
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({
      host: address.host,
      port: address.port,
      secure: address.secure,
      auth,
      logger: false,
      maxIdleTime: maxIdleTimeMs,
      autoIdleDelay: idleDelayMs,
      connectionTimeout: commandTimeoutMs,
      greetingTimeout: commandTimeoutMs,
      // The command deadlines below are ours; this only catches a socket with no traffic at all.
      socketTimeout: Math.max(maxIdleTimeMs + 60_000, 5 * 60_000),
    });
    // ImapFlow emits at most one 'error' per connection and closes it afterwards; without a
    // listener that one event would be thrown as an uncaught exception and end the process.
    client.on('error', (error: Error) => {
      log.warn(
        { ...where, err: messageOf(error), code: (error as { code?: unknown }).code },
        'IMAP connection error',
      );
    });
    return client;
  }

  /** Runs one IMAP step, dropping the connection if the server does not answer in time. */
  async function withDeadline<T>(client: ImapFlow, step: string, work: Promise<T>): Promise<T> {
    const timer = setTimeout(() => {
      closeReasons.set(client, `no answer to ${step} within ${commandTimeoutMs} ms`);
      client.close();
    }, commandTimeoutMs);
    try {
      return await work;
    } finally {
      clearTimeout(timer);
    }
  }

  async function createFolders(client: ImapFlow) {
    // ALREADYEXISTS is answered as `created: false`, not as an error.
    for (const folder of [processedMailbox, failedMailbox]) {
      await withDeadline(client, `CREATE ${folder}`, client.mailboxCreate(folder));
    }
  }

  async function listWaiting(client: ImapFlow, afterUid: number): Promise<WaitingMessage[]> {
    const waiting: WaitingMessage[] = [];
    // `n:*` always includes the highest UID, even below n: hence the filter.
    for await (const message of client.fetch(
      `${afterUid + 1}:*`,
      { uid: true, size: true },
      { uid: true },
    )) {
      if (message.uid > afterUid) waiting.push({ uid: message.uid, size: message.size ?? 0 });
    }
    return waiting.sort((a, b) => a.uid - b.uid);
  }

  async function fetchSources(client: ImapFlow, batch: readonly WaitingMessage[]) {
    const sources: { uid: number; source: Buffer }[] = [];
    const range = batch.map((message) => message.uid).join(',');
    for await (const message of client.fetch(range, { uid: true, source: true }, { uid: true })) {
      // A message expunged meanwhile (by another client) simply is not there.
      if (message.source !== undefined) sources.push({ uid: message.uid, source: message.source });
    }
    return sources.sort((a, b) => a.uid - b.uid);
  }

  async function fileAway(client: ImapFlow, uid: number, verdict: InboundVerdict, key: string) {
    const folder = verdict === 'processed' ? processedMailbox : failedMailbox;
    const moved = await withDeadline(
      client,
      `UID MOVE ${uid}`,
      client.messageMove(String(uid), folder, { uid: true }),
    );
    if (moved !== false && moved !== undefined) {
      refusals.delete(key);
      return;
    }
    // ImapFlow resolves a MOVE that did not happen instead of rejecting: `false` for a NO or a
    // lost connection, `undefined` when no mailbox is selected, which is also what it looks like
    // right after the server's BYE (the state is LOGOUT while `usable` is still true). Unless the
    // session is demonstrably alive, the message must stay above the cursor, to be read again
    // on the next connection.
    if (!isAlive(client) || moved === undefined) {
      throw new Error(`the connection closed while moving UID ${uid} to ${folder}`);
    }
    // The server said NO. Often passing (a lock, a quota being raised): the drain stops and the
    // message is tried again later. After a few refusals it is left in the mailbox for a person,
    // so that one message cannot hold up all the others; the handler has recorded it already.
    const refused = (refusals.get(key) ?? 0) + 1;
    refusals.set(key, refused);
    if (refused < movesRefusedBeforeSkipping) {
      throw new Error(`the server refused to move UID ${uid} to ${folder} (${refused} times)`);
    }
    refusals.delete(key);
    log.error(
      { ...where, uid, folder, refused },
      `the server keeps refusing to move the message to ${folder}; it stays in ${mailbox}`,
    );
  }

  /** Reads every message above the cursor; resolves with how many were handled. */
  async function drain(client: ImapFlow): Promise<number> {
    const lock = await withDeadline(client, `SELECT ${mailbox}`, client.getMailboxLock(mailbox));
    try {
      const opened = client.mailbox;
      if (opened === false) throw new Error(`${mailbox} is not selected`);
      const uidValidity = opened.uidValidity.toString();
      const saved = await options.cursor.get(cursorKey);
      let lastUid = 0;
      if (saved?.uidValidity === uidValidity) {
        lastUid = saved.lastUid;
      } else {
        if (saved !== undefined) {
          log.warn(
            { ...where, was: saved.uidValidity, now: uidValidity },
            'the mailbox has a new UIDVALIDITY: reading it again from UID 1',
          );
        }
        // Stored at once, so that a crash during the rescan resumes it rather than starting over.
        await options.cursor.advance(cursorKey, uidValidity, 0);
      }
      if (opened.exists === 0) return 0;

      const waiting = await withDeadline(client, 'UID FETCH (list)', listWaiting(client, lastUid));
      async function* fetched() {
        for (const batch of batches(waiting)) {
          if (stopping) return;
          // Collected in full before anything else is sent: see the note on imapSource.
          const messages = await withDeadline(client, 'UID FETCH', fetchSources(client, batch));
          // A batch fetched before the connection went is not handed over: it is read again.
          if (!isAlive(client) && messages[0] !== undefined)
            throw new Error(`the connection closed before UID ${messages[0].uid}`);
          yield messages;
        }
      }
      const handled = await drainInOrder({
        fetched: fetched(),
        handler: options.handler,
        batchHandler: options.batchHandler,
        itemOf: ({ uid, source }) => ({ raw: source, mailbox, uid }),
        file: async ({ uid }, verdict) => {
          if (!isAlive(client)) throw new Error(`the connection closed before UID ${uid}`);
          await fileAway(client, uid, verdict, `${uidValidity}:${uid}`);
          await options.cursor.advance(cursorKey, uidValidity, uid);
          failures = 0;
        },
        stopping: () => stopping,
      });
      failures = 0;
      return handled;
    } finally {
      lock.release();
    }
  }

  async function logoutOf(client: ImapFlow) {
    if (!isAlive(client)) {
      client.close();
      return;
    }
    try {
      await withDeadline(client, 'LOGOUT', client.logout());
    } catch {
      client.close();
    }
  }

  async function supervise(firstAttemptDone: () => void) {
    while (!stopping) {
      let auth: Credentials;
      try {
        auth = await credentials();
      } catch (error) {
        // No token (the provider refused, or cannot be reached): like a failed connection.
        firstAttemptDone();
        if (stopping) break;
        log.warn({ ...where, reason: messageOf(error) }, 'IMAP connection failed');
        failures += 1;
        await waitBeforeReconnect(messageOf(error));
        continue;
      }
      const client = await newClient(auth);
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      let connectedOk = false;
      connecting = client;
      try {
        await client.connect();
        await createFolders(client);
        connectedOk = true;
      } catch (error) {
        closeReasons.set(client, messageOf(explainConnectError(error)));
        client.close();
      } finally {
        connecting = undefined;
      }
      firstAttemptDone();

      if (connectedOk) {
        if (stopping) {
          await logoutOf(client);
          break;
        }
        connections += 1;
        current = client;
        options.onStatus?.(undefined);
        log.info(
          { ...where, connection: connections, afterFailures: failures },
          'IMAP connected; listening for replies',
        );
        client.on('exists', (event) => {
          if (event.count > event.prevCount) drainInBackground();
        });
        drainInBackground();
        await closed;
        current = undefined;
        if (stopping) break;
        options.onStatus?.(
          `the mailbox ${describe(address)} dropped the connection: ${disconnectReason(client)}`,
        );
        log.warn(
          {
            ...where,
            connection: connections,
            reason: disconnectReason(client),
            idling: client.idlingAtClose,
          },
          'IMAP connection lost',
        );
      } else {
        if (stopping) break;
        options.onStatus?.(
          `cannot reach the mailbox ${describe(address)}: ${closeReasons.get(client) ?? 'unknown'}`,
        );
        log.warn(
          { ...where, reason: closeReasons.get(client) ?? 'unknown' },
          'IMAP connection failed',
        );
      }

      failures += 1;
      await waitBeforeReconnect(disconnectReason(client));
    }
  }

  async function waitBeforeReconnect(reason: string) {
    const delayMs = backoff(failures, backoffOptions);
    log.info({ ...where, attempt: failures, delayMs, reason }, 'IMAP reconnecting');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      wakeFromBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wakeFromBackoff = undefined;
  }

  function disconnectReason(client: ImapFlow): string {
    return (
      closeReasons.get(client) ??
      (client.byeReason !== undefined ? `server said BYE: ${client.byeReason}` : undefined) ??
      (client.closedByClient ? 'closed by us' : 'closed by the server or the network')
    );
  }

  /** Connects, asking once more with a renewed token when the server refused an OAuth2 token. */
  async function connectOnce(): Promise<ImapFlow> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await newClient(await credentials());
      try {
        await client.connect();
        return client;
      } catch (error) {
        client.close();
        const explained = explainConnectError(error);
        if (tokenRefused && attempt === 1) continue;
        throw explained;
      }
    }
  }

  /** `poll()` without `start()` (`gym run --once`): one connection, one drain, logout. */
  async function pollOnce(): Promise<number> {
    let client: ImapFlow;
    try {
      client = await connectOnce();
    } catch (error) {
      // A refused OAuth2 token already says what to change; anything else is "cannot read".
      throw error instanceof GymError ? error : unreachable(address, error);
    }
    try {
      await createFolders(client);
      return await drain(client);
    } finally {
      await logoutOf(client);
    }
  }

  const described = describe(address);

  /** One connection for a check of `gym doctor`, whatever the check, always logged out. */
  async function withConnection<T>(work: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = await connectOnce();
    try {
      return await work(client);
    } finally {
      await logoutOf(client);
    }
  }

  return {
    async verify() {
      try {
        return await withConnection(async (client) => {
          const status = await withDeadline(
            client,
            `STATUS ${mailbox}`,
            client.status(mailbox, { messages: true }),
          );
          if (status === false) {
            return { ok: false, detail: `${described}: there is no mailbox ${mailbox}` };
          }
          await createFolders(client);
          return {
            ok: true,
            detail:
              `${described}: signed in${options.oauth2 === undefined ? '' : ' with OAuth2'}, ` +
              `${status.messages ?? 0} messages waiting, ${processedMailbox} and ${failedMailbox} ready`,
          };
        });
      } catch (error) {
        return { ok: false, detail: `${described}: ${messageOf(error)}` };
      }
    },
    async find(messageId) {
      return withConnection(async (client) => {
        for (const folder of [mailbox, processedMailbox, failedMailbox]) {
          const lock = await withDeadline(
            client,
            `SELECT ${folder}`,
            client.getMailboxLock(folder),
          );
          try {
            const uids = await withDeadline(
              client,
              `SEARCH in ${folder}`,
              client.search({ header: { 'message-id': messageId } }, { uid: true }),
            );
            if (uids !== false && uids !== undefined && uids.length > 0) return folder;
          } finally {
            lock.release();
          }
        }
        return undefined;
      });
    },
    async start() {
      if (started) return;
      started = true;
      let firstAttemptDone = () => {};
      const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
      supervisor = supervise(firstAttemptDone);
      pollTimer = setInterval(() => drainInBackground(), pollIntervalMs);
      // Resolves after the first connection attempt, whatever its outcome: a server that is down
      // at start is retried in the background, and the log says so.
      await firstAttempt;
    },
    poll() {
      if (!started) {
        const once = lastDrain.then(pollOnce);
        lastDrain = once.catch(() => {});
        return once;
      }
      // Between connections there is nothing to read from: the next connection drains anyway.
      return requestDrain();
    },
    async stop() {
      if (stopping) return supervisor;
      stopping = true;
      clearInterval(pollTimer);
      wakeFromBackoff?.();
      // A connection still being made (a server that does not answer) is abandoned.
      connecting?.close();
      // The message in hand finishes; drains queued behind it see `stopping` and do nothing.
      await lastDrain;
      const client = current;
      if (client !== undefined) await logoutOf(client);
      await supervisor;
      if (started) log.info({ ...where }, 'IMAP listener stopped');
    },
  };
}

/** The IMAP listener, and the checks `gym doctor` makes with the same connection settings. */
export interface ImapMailSource extends MailSource {
  /** Connect, sign in, check the mailbox exists and create Processed and Failed: one line. */
  verify(): Promise<{ readonly ok: boolean; readonly detail: string }>;
  /** The folder (the mailbox, Processed or Failed) holding a message with this Message-ID. */
  find(messageId: string): Promise<string | undefined>;
}

/** `engine@example.org@imap.example.org:993/INBOX`: the mailbox for a person, no password. */
function describe(address: ImapAddress): string {
  return `${address.auth.user}@${address.host}:${address.port}/${address.mailbox}`;
}

/** One line for `gym run --once` when the mailbox cannot be read at all: exit 1, not a stack. */
function unreachable(address: ImapAddress, error: unknown): GymError {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    authenticationFailed?: unknown;
    responseText?: unknown;
  };
  const why =
    fields.authenticationFailed === true
      ? `the server refused the login for ${address.auth.user}` +
        (typeof fields.responseText === 'string' ? ` (${fields.responseText})` : '')
      : messageOf(error);
  return new GymError(
    'MAILBOX_UNREACHABLE',
    `cannot read the mailbox ${describe(address)}: ${why}; check IMAP_URL and that the server is up, then run again`,
    { host: address.host, port: address.port, mailbox: address.mailbox },
    { cause: error },
  );
}

function* batches(waiting: readonly WaitingMessage[]): Generator<WaitingMessage[]> {
  let batch: WaitingMessage[] = [];
  let bytes = 0;
  for (const message of waiting) {
    if (batch.length > 0 && (batch.length >= batchMessages || bytes + message.size > batchBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.size;
  }
  if (batch.length > 0) yield batch;
}

function resolveAddress(options: ImapSourceOptions): ImapAddress {
  const fromUrl = options.url === undefined ? undefined : parseImapUrl(options.url);
  const host = options.host ?? fromUrl?.host;
  const auth = options.auth ?? fromUrl?.auth;
  if (host === undefined || auth === undefined) {
    throw new GymError(
      'CONFIG_INVALID',
      'the IMAP listener needs IMAP_URL (imap://user:password@host:port/INBOX), or a host and a user',
    );
  }
  const secure = options.secure ?? fromUrl?.secure ?? false;
  return {
    host,
    port: options.port ?? fromUrl?.port ?? (secure ? 993 : 143),
    secure,
    auth,
    mailbox: options.mailbox ?? fromUrl?.mailbox ?? 'INBOX',
  };
}
