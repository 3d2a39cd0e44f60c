import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One header field of a message, unfolded by RFC 5322 rules (CRLF before WSP removed). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/**
 * The top-level header block of a message, as a strict reader sees it: every line is either
 * `name: value` with a printable-ASCII name, or a continuation starting with a space or tab.
 * Throws on anything else (a bare CR or LF, a line that is neither), which is what a broken
 * header looks like.
 */
export function parseHeaders(raw: Buffer | string): HeaderField[] {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no empty line after the headers');
  const block = text.slice(0, end);
  if (/\r(?!\n)|(?<!\r)\n/.test(block)) throw new Error('a bare CR or LF in the headers');
  const fields: { name: string; value: string }[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line)) {
      const last = fields.at(-1);
      if (last === undefined) throw new Error(`continuation before any field: ${line}`);
      last.value += line; // unfolding removes only the CRLF
      continue;
    }
    const match = /^([!-9;-~]+):[ \t]?(.*)$/.exec(line);
    if (match === null) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    fields.push({ name: match[1]!, value: match[2]! });
  }
  return fields;
}

/** The values of one header, case-insensitively. */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  return fields.filter((f) => f.name.toLowerCase() === name.toLowerCase()).map((f) => f.value);
}

export interface ReceivedMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: Buffer;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly url: string;
  readonly received: ReceivedMessage[];
  /** The most connections open at once. */
  readonly maxConcurrentConnections: () => number;
  close(): Promise<void>;
}

export interface SmtpServerBehaviour {
  /** The answer to the end of DATA: undefined accepts; an Error with a `responseCode` refuses. */
  readonly answerData?: (message: ReceivedMessage) => Error | undefined;
  /**
   * Cut the connection as soon as the first bytes of a message arrive: of every message, or of
   * those to the recipients it says yes to.
   */
  readonly dropDuringData?: boolean | ((to: readonly string[]) => boolean);
}

/** A real smtp-server on 127.0.0.1 and a free port, keeping every message it accepts. */
export async function startSmtpServer(
  options: Omit<SMTPServerOptions, 'onData'> & SmtpServerBehaviour = {},
): Promise<TestSmtpServer> {
  const { answerData, dropDuringData, ...serverOptions } = options;
  const received: ReceivedMessage[] = [];
  let open = 0;
  let maxOpen = 0;
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...serverOptions,
    onConnect(session, callback) {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      if (serverOptions.onConnect) serverOptions.onConnect(session, callback);
      else callback();
    },
    onClose(session, callback) {
      open -= 1;
      if (serverOptions.onClose) serverOptions.onClose(session, callback);
      else callback?.();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let dropped = false;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const drop =
          typeof dropDuringData === 'function'
            ? dropDuringData(session.envelope.rcptTo.map((r) => r.address))
            : dropDuringData === true;
        if (drop && !dropped) {
          // The connection goes before the server answers: whatever arrived was never accepted,
          // even when the first chunk already held the whole message (one write of raw bytes).
          dropped = true;
          for (const connection of server.connections) {
            if (connection.id === session.id) connection._socket.destroy();
          }
        }
      });
      stream.on('end', () => {
        const message: ReceivedMessage = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks),
        };
        if (dropped) return;
        const refusal = answerData?.(message);
        if (refusal === undefined) received.push(message);
        callback(refusal);
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    maxConcurrentConnections: () => maxOpen,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** An SMTP refusal, as a server hook returns it: `reply(550, '5.1.1 no such user')`. */
export function reply(responseCode: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode });
}

/** A plain TCP server that does `onSocket` with every connection (destroy it, say nothing...). */
export async function startTcpServer(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
