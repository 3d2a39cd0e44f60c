/*
 * A dispatcher worker process for the fault tests: the dispatcher loop of `gym run`
 * (startDispatcher: a failing tick is logged and the next one tries again) with what the CLI
 * does not let us choose: a short lease, so that a killed worker's rows come back in seconds
 * rather than five minutes (and, when FAULT_SEND_LEASE_SECONDS is set, the lease of a message in
 * flight), and a tick every second. SIGTERM stops it as `gym run` stops.
 *
 * Settings come from the environment; it writes one JSON line per event to stdout.
 */
import { createDatabase } from '../../src/db/database.js';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { startDispatcher } from '../../src/engine/dispatcher-loop.js';
import { backoff } from '../../src/mail/backoff.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`dispatch-worker: ${name} is not set`);
  return value;
}

function write(event: string, fields: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
}

const stopRequested = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
const offset = Date.parse(setting('FAULT_CLOCK')) - Date.now();
const now = () => new Date(Date.now() + offset);
const workerId = setting('FAULT_WORKER');

const database = await createDatabase({ kind: 'postgres', url: setting('DATABASE_URL') });
const transport = createSmtpTransport({ url: setting('SMTP_URL') });
const loop = startDispatcher(
  {
    store: dispatchStore(database.db),
    transport,
    mail: {
      secret: setting('GYM_SECRET'),
      from: 'Digital Gym <gym@gym.example.gov.uk>',
      replyAddress: 'progress@gym.example.gov.uk',
      publicUrl: undefined,
    },
    workerId,
    batchSize: Number(setting('FAULT_BATCH_SIZE')),
    concurrency: Number(setting('FAULT_CONCURRENCY')),
    leaseSeconds: Number(setting('FAULT_LEASE_SECONDS')),
    ...(process.env.FAULT_SEND_LEASE_SECONDS
      ? { sendLeaseSeconds: Number(process.env.FAULT_SEND_LEASE_SECONDS) }
      : {}),
    retryDelay: (attempt) => backoff(attempt, { random: Math.random }),
    compiled: programmeCache({ validation: 'soft' }),
  },
  {
    now,
    every: '* * * * * *',
    log: {
      info: (fields, message) => write(message, fields),
      error: (fields, message) => write(message, fields),
    },
  },
);
write('started', { worker: workerId });
await stopRequested;
write('stopping');
await loop.stop();
await transport.close();
await database.close();
write('stopped');
