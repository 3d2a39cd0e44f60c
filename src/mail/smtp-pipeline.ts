import { connect, type Socket } from 'node:net';

/**
 * A lean SMTP client for the hot path of a wave: one plain connection to a relay that offers
 * PIPELINING (RFC 2920) and neither asks for a sign-in nor offers STARTTLS, such as a local
 * Postfix. Each message's MAIL FROM, RCPT TO and DATA go out together, and the next message's
 * follow the end of the last one's data in the same write: one round trip a message, where
 * nodemailer's `SMTPConnection` takes two. Everything else (TLS, AUTH, XOAUTH2, DKIM) stays
 * with nodemailer: `openPipeline` says `unsuitable` for any relay that offers or needs more, and
 * the transport uses `SMTPConnection` there.
 *
 * Failures are errors shaped as nodemailer's (`code`, `responseCode`, `response`, `command`), so
 * that one classification (`classifySmtpError`) serves both.
 */

export interface PipelineJob {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly raw: Buffer;
}

/** What became of a job the connection took. */
export type PipelineOutcome =
  | { readonly kind: 'sent'; readonly response: string }
  | { readonly kind: 'failed'; readonly error: SmtpFailure }
  /** Not a byte of the message was sent: another connection can take it. */
  | { readonly kind: 'untouched'; readonly error: SmtpFailure };

export type SmtpFailure = Error & {
  code: string;
  responseCode?: number;
  response?: string;
  command?: string;
};

export interface PipelineOptions {
  readonly host: string;
  readonly port: number;
  /** The name we give in EHLO. */
  readonly name: string;
  readonly connectionTimeoutMs: number;
  readonly greetingTimeoutMs: number;
  readonly socketTimeoutMs: number;
  /** Go on without TLS although the relay offers STARTTLS (`?ignoreTLS=true` in SMTP_URL). */
  readonly ignoreTls: boolean;
}

function failure(
  message: string,
  code: string,
  fields: { responseCode?: number; response?: string; command?: string } = {},
): SmtpFailure {
  return Object.assign(new Error(message), { code, ...fields });
}

interface Reply {
  readonly code: number;
  /** The whole reply, lines joined with CRLF as nodemailer keeps them. */
  readonly text: string;
}

/** Reads SMTP replies off the socket in order; a closed socket fails what is still awaited. */
class Replies {
  private buffer = '';
  private lines: string[] = [];
  private readonly ready: Reply[] = [];
  private waiting: { resolve: (reply: Reply) => void; reject: (error: SmtpFailure) => void }[] = [];
  private ended: SmtpFailure | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, end).replace(/\r$/, '');
        this.buffer = this.buffer.slice(end + 1);
        this.lines.push(line);
        // A multi-line reply ends with its line of "NNN " (a space, or nothing, after the code).
        if (/^\d{3}(?: |$)/.test(line)) {
          const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\r\n') };
          this.lines = [];
          const waiter = this.waiting.shift();
          if (waiter === undefined) this.ready.push(reply);
          else waiter.resolve(reply);
        }
      }
    });
  }

  end(error: SmtpFailure): void {
    this.ended ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.ended);
  }

  next(): Promise<Reply> {
    const reply = this.ready.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

export interface PipelinedConnection {
  /**
   * Sends `first`, and after it every job `next` gives, one round trip each, until `next` gives
   * none; `done` hears of each job as it ends. Resolves when the connection is free again, or
   * with `closed` when it can take no more.
   */
  run(
    first: PipelineJob,
    next: () => PipelineJob | undefined,
    done: (job: PipelineJob, outcome: PipelineOutcome) => void,
  ): Promise<'free' | 'closed'>;
  /** QUIT when idle, else cut. */
  close(): void;
}

/**
 * Connects, reads the greeting, says EHLO, and returns the connection when the relay suits
 * (PIPELINING, no STARTTLS unless told to ignore it, no sign-in needed); otherwise quits and says
 * why it does not suit. Rejects with an SmtpFailure when it cannot connect.
 */
export async function openPipeline(
  options: PipelineOptions,
): Promise<{ connection: PipelinedConnection } | { unsuitable: string }> {
  const socket = connect({ host: options.host, port: options.port });
  socket.setNoDelay(true);
  const replies = new Replies(socket);
  let closed: SmtpFailure | undefined;
  const end = (error: SmtpFailure) => {
    closed ??= error;
    replies.end(closed);
    socket.destroy();
  };
  socket.on('error', (error: NodeJS.ErrnoException) =>
    end(failure(error.message, error.code === 'ETIMEDOUT' ? 'ETIMEDOUT' : 'ESOCKET')),
  );
  socket.on('close', () => end(failure('Connection closed', 'ECONNECTION', { command: 'CONN' })));
  const within = async <T>(ms: number, what: Promise<T>, error: () => SmtpFailure) => {
    const timer = setTimeout(() => end(error()), ms);
    try {
      return await what;
    } finally {
      clearTimeout(timer);
    }
  };
  // A refusal before any message (a 554 or 421 greeting, a refused EHLO) is about the relay, not
  // a message: no reply code, so that it is retried, with the relay's words as the reason.
  const expectReply = (reply: Reply, command: string, wanted: number) => {
    if (Math.floor(reply.code / 100) !== Math.floor(wanted / 100))
      throw failure(`Invalid response: ${reply.text}`, 'EPROTOCOL', {
        response: reply.text,
        command,
      });
  };
  let ehlo: Reply;
  try {
    await within(
      options.connectionTimeoutMs,
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('close', () =>
          reject(closed ?? failure('Connection closed', 'ECONNECTION', { command: 'CONN' })),
        );
      }),
      () => failure('Connection timeout', 'ETIMEDOUT', { command: 'CONN' }),
    );
    expectReply(
      await within(options.greetingTimeoutMs, replies.next(), () =>
        failure('Greeting never received', 'ETIMEDOUT', { command: 'CONN' }),
      ),
      'CONN',
      220,
    );
    socket.write(`EHLO ${options.name}\r\n`);
    ehlo = await within(options.socketTimeoutMs, replies.next(), () =>
      failure('Timeout', 'ETIMEDOUT', { command: 'EHLO' }),
    );
    expectReply(ehlo, 'EHLO', 250);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const offers = (extension: string) => new RegExp(`^250[ -]${extension}\\b`, 'im').test(ehlo.text);
  const unsuitable = !offers('PIPELINING')
    ? 'the relay does not offer PIPELINING'
    : offers('STARTTLS') && !options.ignoreTls
      ? 'the relay offers STARTTLS'
      : undefined;
  if (unsuitable !== undefined) {
    socket.end('QUIT\r\n');
    return { unsuitable };
  }
  socket.setTimeout(options.socketTimeoutMs, () =>
    end(failure('Timeout', 'ETIMEDOUT', { command: 'CONN' })),
  );
  let busy = false;
  let quitWhenFree = false;

  const connection: PipelinedConnection = {
    async run(first, next, done) {
      busy = true;
      // The job whose envelope is on the wire, and the one whose data is (awaiting its answer).
      let queued: PipelineJob | undefined = first;
      let pending: PipelineJob | undefined;
      socket.write(envelopeOf(first));
      try {
        while (queued !== undefined) {
          const current: PipelineJob = queued;
          // A 421 closes the session at once, the replies after it do not come: it is this
          // message's outcome (the relay asks us to slow down), not a cut to hand it on from.
          const closing = (command: string, reply: Reply) => {
            if (reply.code !== 421) return reply;
            queued = undefined;
            const refusal = failureOf(command, reply);
            done(current, { kind: 'failed', error: refusal });
            throw refusal;
          };
          const mail = closing('MAIL FROM', await replies.next());
          const rcpt = closing('RCPT TO', await replies.next());
          const data = closing('DATA', await replies.next());
          const refused =
            mail.code >= 300
              ? failureOf('MAIL FROM', mail)
              : rcpt.code >= 300
                ? failureOf('RCPT TO', rcpt)
                : data.code !== 354
                  ? failureOf('DATA', data)
                  : undefined;
          if (refused !== undefined) {
            // 354 after a refusal would have us send a message without its envelope: cut.
            if (data.code === 354) throw failure('DATA accepted after a refusal', 'EPROTOCOL');
            queued = undefined;
            done(current, { kind: 'failed', error: refused });
            queued = next();
            // RSET opens the next group; the next envelope follows it without waiting.
            socket.write(queued === undefined ? 'RSET\r\n' : `RSET\r\n${envelopeOf(queued)}`);
            const reset = await replies.next();
            if (reset.code !== 250) throw failureOf('RSET', reset);
            continue;
          }
          queued = next();
          pending = current;
          const body = smtpData(current.raw);
          socket.write(
            queued === undefined ? body : Buffer.concat([body, Buffer.from(envelopeOf(queued))]),
          );
          const answer = await replies.next();
          pending = undefined;
          if (answer.code >= 200 && answer.code < 300)
            done(current, { kind: 'sent', response: answer.text });
          else done(current, { kind: 'failed', error: failureOf('DATA', answer, 'EMESSAGE') });
          if (answer.code === 421) throw failureOf('DATA', answer, 'EMESSAGE');
        }
      } catch (error) {
        const cause = error as SmtpFailure;
        // Its data went and no answer came: the relay may have it, the caller decides.
        if (pending !== undefined) done(pending, { kind: 'failed', error: cause });
        // Its envelope went, not a byte of the message.
        if (queued !== undefined) done(queued, { kind: 'untouched', error: cause });
        end(cause);
        return 'closed';
      } finally {
        busy = false;
      }
      if (quitWhenFree || closed !== undefined) {
        connection.close();
        return 'closed';
      }
      return 'free';
    },
    close() {
      if (busy) {
        quitWhenFree = true;
        return;
      }
      if (closed === undefined) {
        closed = failure('Connection closed', 'ECONNECTION', { command: 'CONN' });
        socket.end('QUIT\r\n');
        // A relay that does not close after QUIT is not waited for.
        setTimeout(() => socket.destroy(), 1_000).unref();
      }
    },
  };
  return { connection };
}

function envelopeOf(job: PipelineJob): string {
  return `MAIL FROM:<${job.envelope.from}>\r\n${job.envelope.to.map((to) => `RCPT TO:<${to}>\r\n`).join('')}DATA\r\n`;
}

function failureOf(command: string, reply: Reply, code = 'EENVELOPE'): SmtpFailure {
  return failure(`${command} refused: ${reply.text}`, code, {
    responseCode: reply.code,
    response: reply.text,
    command,
  });
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * The message as SMTP DATA up to and including the final `.` line: every line ending CRLF, a dot
 * at the start of a line doubled (RFC 5321 4.5.2), a bare CR or LF made CRLF as nodemailer does
 * (a lone CR read as a line end by a receiver would otherwise let "\r.\r" end the data: SMTP
 * smuggling). Our composed messages need no change, found with native searches; only others take
 * the byte-by-byte path.
 */
export function smtpData(raw: Buffer): Buffer {
  const ending = raw.length > 0 && raw[raw.length - 1] === LF ? '.\r\n' : '\r\n.\r\n';
  if (isClean(raw)) return Buffer.concat([raw, Buffer.from(ending)]);
  const out: number[] = [];
  let previous: number | undefined;
  for (const byte of raw) {
    if (previous === CR && byte !== LF) {
      out.push(LF);
      if (byte === DOT) out.push(DOT);
    } else if (byte === LF && previous !== CR) out.push(CR);
    else if (byte === DOT && (previous === LF || previous === undefined)) out.push(DOT);
    out.push(byte);
    previous = byte;
  }
  if (previous === CR) out.push(LF);
  const tail = previous === CR || previous === LF ? '.\r\n' : '\r\n.\r\n';
  return Buffer.concat([Buffer.from(out), Buffer.from(tail)]);
}

/** CRLF line ends only, no line starting with a dot, not ending in a bare CR. */
function isClean(raw: Buffer): boolean {
  if (raw.length > 0 && raw[0] === DOT) return false;
  if (raw.length > 0 && raw[raw.length - 1] === CR) return false;
  let lf = raw.indexOf(LF);
  let lines = 0;
  while (lf >= 0) {
    if (lf === 0 || raw[lf - 1] !== CR) return false;
    if (lf + 1 < raw.length && raw[lf + 1] === DOT) return false;
    lines += 1;
    lf = raw.indexOf(LF, lf + 1);
  }
  // Every CR is the start of a CRLF.
  let crs = 0;
  let cr = raw.indexOf(CR);
  while (cr >= 0) {
    crs += 1;
    cr = raw.indexOf(CR, cr + 1);
  }
  return crs === lines;
}
