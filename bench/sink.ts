/**
 * The loopback SMTP sink of `npm run bench`, in a process of its own: a real `smtp-server` on
 * 127.0.0.1 that accepts every message, discards it and counts it. It talks to the benchmark over
 * IPC (started with an `ipc` stdio channel):
 *
 *   -> { type: 'ready', port }                      once listening
 *   <- { type: 'stats' }  -> { type: 'stats', ... }  messages and bytes so far, first and last
 *   <- { type: 'reset' }  -> { type: 'reset' }       counters back to zero
 *
 * It exits when the benchmark goes away (the IPC channel closes) or on SIGINT/SIGTERM.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkStats {
  readonly type: 'stats';
  readonly messages: number;
  readonly bytes: number;
  /** performance.timeOrigin + now(), in ms since the epoch, of the first and last accepted. */
  readonly firstAt: number | undefined;
  readonly lastAt: number | undefined;
  /** CPU of this process since the last reset, in microseconds. */
  readonly cpuMicros: number;
  readonly connections: number;
  readonly maxConnections: number;
}

export type SinkRequest = { readonly type: 'stats' } | { readonly type: 'reset' };
export type SinkReply = SinkStats | { readonly type: 'reset' } | { type: 'ready'; port: number };

let messages = 0;
let bytes = 0;
let firstAt: number | undefined;
let lastAt: number | undefined;
let cpuAtReset = process.cpuUsage();
let open = 0;
let maxOpen = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  banner: 'bench sink',
  onConnect(_session, callback) {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    callback();
  },
  onClose() {
    open -= 1;
  },
  onData(stream, _session, callback) {
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    stream.on('end', () => {
      const now = Date.now();
      messages += 1;
      bytes += size;
      firstAt ??= now;
      lastAt = now;
      callback();
    });
  },
});
server.on('error', () => {});

function send(reply: SinkReply): void {
  process.send?.(reply);
}

process.on('message', (request: SinkRequest) => {
  if (request.type === 'reset') {
    messages = 0;
    bytes = 0;
    firstAt = undefined;
    lastAt = undefined;
    maxOpen = open;
    cpuAtReset = process.cpuUsage();
    send({ type: 'reset' });
    return;
  }
  const cpu = process.cpuUsage(cpuAtReset);
  send({
    type: 'stats',
    messages,
    bytes,
    firstAt,
    lastAt,
    cpuMicros: cpu.user + cpu.system,
    connections: open,
    maxConnections: maxOpen,
  });
});

const stop = () => {
  server.close(() => process.exit(0));
  // Open client connections would keep close() waiting.
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('disconnect', stop);
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

server.listen(0, '127.0.0.1');
await once(server.server, 'listening');
send({ type: 'ready', port: (server.server.address() as AddressInfo).port });
