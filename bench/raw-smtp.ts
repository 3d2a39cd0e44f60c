/**
 * The machine's limit for the benchmark: a minimal SMTP client on `node:net` sending pre-built
 * messages: EHLO once per connection, then MAIL FROM, RCPT TO, DATA and the message, over a few
 * parallel connections. Without pipelining each command waits for its reply (4 round trips a
 * message); pipelined (RFC 2920), MAIL FROM, RCPT TO and DATA go together (2 round trips);
 * streamed, the next message's MAIL FROM, RCPT TO and DATA follow the end of the last one's data
 * in the same write (RFC 2920 lets message content open a group: 1 round trip a message).
 * Nothing is composed, rendered or stored: what is left is the wire and the server.
 */
import { connect, type Socket } from 'node:net';

/** A message of about `size` bytes as SMTP DATA (CRLF lines, none starting with a dot). */
export function prebuiltMessage(size: number, index: number): Buffer {
  const head = [
    'From: Digital Gym <gym@gym.bench.test>',
    `To: Learner ${index} <learner${index}@bench.example.gov.uk>`,
    `Subject: Week 1: a pre-built message ${index}`,
    `Message-ID: <raw${index}.bench@gym.bench.test>`,
    'Date: Mon, 04 Jan 2027 17:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
  ].join('\r\n');
  const line = 'x'.repeat(74);
  const lines: string[] = [];
  let length = head.length + 2;
  while (length < size) {
    lines.push(line);
    length += line.length + 2;
  }
  return Buffer.from(`${head}\r\n${lines.join('\r\n')}\r\n`);
}

/** Reads SMTP replies off a socket: each `reply()` resolves with the next complete one. */
class ReplyReader {
  private buffer = '';
  private readonly complete: string[] = [];
  private waiting: ((reply: string) => void) | undefined;
  private failure: Error | undefined;
  private failed: ((error: Error) => void) | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        // A multi-line reply ends with its line of "NNN " (a space after the code).
        if (/^\d{3}(?: |$)/.test(line)) this.deliver(line);
      }
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.failed?.(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  private deliver(line: string): void {
    if (this.waiting === undefined) this.complete.push(line);
    else {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.failed = undefined;
      resolve(line);
    }
  }

  reply(): Promise<string> {
    const ready = this.complete.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }
}

async function expect(reader: ReplyReader, code: string, after: string): Promise<void> {
  const reply = await reader.reply();
  if (!reply.startsWith(code)) throw new Error(`after ${after}: expected ${code}, got ${reply}`);
}

const dotLine = Buffer.from('.\r\n');

export interface RawRunResult {
  readonly sent: number;
  readonly elapsedMs: number;
  /** CPU of this process while sending, in microseconds. */
  readonly cpuMicros: number;
}

/**
 * Sends pre-built messages for `durationMs` over `connections` connections and returns how many
 * the server acknowledged (250 after the DATA).
 */
export async function rawSmtpRun(options: {
  port: number;
  connections: number;
  durationMs: number;
  messages: readonly Buffer[];
  pipelined?: boolean | 'streamed';
}): Promise<RawRunResult> {
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const connection = async (lane: number) => {
    const socket = connect(options.port, '127.0.0.1');
    socket.setNoDelay(true);
    const reader = new ReplyReader(socket);
    await expect(reader, '220', 'connecting');
    socket.write('EHLO raw.bench.test\r\n');
    await expect(reader, '250', 'EHLO');
    const envelope = (i: number) =>
      `MAIL FROM:<progress@gym.bench.test>\r\nRCPT TO:<learner${i}@bench.example.gov.uk>\r\nDATA\r\n`;
    if (options.pipelined === 'streamed') {
      let i = lane;
      socket.write(envelope(i));
      for (;;) {
        await expect(reader, '250', 'MAIL FROM');
        await expect(reader, '250', 'RCPT TO');
        await expect(reader, '354', 'DATA');
        const message = options.messages[i % options.messages.length]!;
        const more = performance.now() < deadline;
        i += options.connections;
        socket.write(
          more
            ? Buffer.concat([message, dotLine, Buffer.from(envelope(i))])
            : Buffer.concat([message, dotLine]),
        );
        await expect(reader, '250', 'the end of DATA');
        sent += 1;
        if (!more) break;
      }
    }
    for (
      let i = lane;
      options.pipelined !== 'streamed' && performance.now() < deadline;
      i += options.connections
    ) {
      if (options.pipelined === true) {
        socket.write(envelope(i));
        await expect(reader, '250', 'MAIL FROM');
        await expect(reader, '250', 'RCPT TO');
        await expect(reader, '354', 'DATA');
        socket.write(Buffer.concat([options.messages[i % options.messages.length]!, dotLine]));
        await expect(reader, '250', 'the end of DATA');
        sent += 1;
        continue;
      }
      socket.write('MAIL FROM:<progress@gym.bench.test>\r\n');
      await expect(reader, '250', 'MAIL FROM');
      socket.write(`RCPT TO:<learner${i}@bench.example.gov.uk>\r\n`);
      await expect(reader, '250', 'RCPT TO');
      socket.write('DATA\r\n');
      await expect(reader, '354', 'DATA');
      socket.write(options.messages[i % options.messages.length]!);
      socket.write('.\r\n');
      await expect(reader, '250', 'the end of DATA');
      sent += 1;
    }
    socket.write('QUIT\r\n');
    await reader.reply().catch(() => '');
    socket.destroy();
  };
  await Promise.all(Array.from({ length: options.connections }, (_, lane) => connection(lane)));
  const cpu = process.cpuUsage(cpuBefore);
  return { sent, elapsedMs: performance.now() - started, cpuMicros: cpu.user + cpu.system };
}
