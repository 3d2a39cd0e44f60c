import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import type { Database } from '../../src/db/schema.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const workerScript = fileURLToPath(new URL('./dispatch-worker.ts', import.meta.url));
const run = promisify(execFile);

export const secret = 'a-fault-test-secret-of-at-least-32-characters!';
/** Every wave is due at 08:59 UTC on Monday 1 March 2027; the workers' clocks start at 09:00. */
export const waveDue = '2027-03-01T08:59:00Z';
export const clockStart = '2027-03-01T09:00:00Z';

const [programme] = loadSequenceFiles(['sequences/social-media-for-comms.yaml'], root).flatMap(
  (r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []),
);

export interface WaveStep {
  readonly key: string;
  readonly week: number;
  readonly kind: 'email' | 'invite';
}

/** Every step of the real programme, in order: what a learner's plan holds. */
export const programmeSteps: readonly WaveStep[] = programme!.sequence.weeks.flatMap((w) =>
  w.steps.map((s) => ({
    key: `w${String(w.week).padStart(2, '0')}-${s.id}`,
    week: w.week,
    kind: s.email ? ('email' as const) : ('invite' as const),
  })),
);

/**
 * `size` deliveries of the real programme, all due at the same instant (waveDue), for as many
 * learners as it takes with `steps` each. Returns the number of learners.
 */
export async function seedWave(
  db: Kysely<Database>,
  size: number,
  steps: readonly WaveStep[] = programmeSteps,
): Promise<number> {
  const versionId = await enrolmentStore(db).saveProgrammeVersion(programme!);
  const learners = Math.ceil(size / steps.length);
  await sql`
    insert into learners (email, first_name, last_name, time_zone)
    select 'learner' || n || '@example.gov.uk', 'Learner', 'Number ' || n, 'Europe/London'
    from generate_series(1, ${learners}) as n`.execute(db);
  await sql`
    insert into enrolments (learner_id, sequence_version_id, starts_on)
    select id, ${versionId}, '2027-01-04' from learners`.execute(db);
  const values = sql.join(
    steps.map((s, i) => sql`(${s.key}, ${s.week}::int, ${s.kind}, ${i}::int)`),
  );
  await sql`
    insert into deliveries (enrolment_id, step_key, week, kind, due_at, starts_at, planned_local)
    select e.id, s.key, s.week, s.kind, ${waveDue}::timestamptz,
      case when s.kind = 'invite' then '2027-03-03T14:00:00Z'::timestamptz end, '2027-03-01T08:59'
    from enrolments e cross join (values ${values}) as s (key, week, kind, n)
    where (e.id - (select min(id) from enrolments)) * ${steps.length} + s.n < ${size}`.execute(db);
  const { n } = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(n) !== size) throw new Error(`seeded ${String(n)} deliveries, not ${size}`);
  return learners;
}

/** Deliveries by status: `{ sent: 9995, claimed: 5 }`. */
export async function statusCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Polls `check` until it holds; throws with `what` (and the last detail) after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; detail?: () => unknown },
): Promise<number> {
  const started = Date.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return Date.now() - started;
    if (Date.now() - started > options.timeoutMs) {
      const detail = options.detail === undefined ? '' : `: ${JSON.stringify(options.detail())}`;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting until ${what}${detail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** The Message-ID of a raw message (its header block), or undefined. */
export function messageIdOf(raw: Buffer): string | undefined {
  const head = raw.subarray(0, 16 * 1024).toString('latin1');
  const end = head.indexOf('\r\n\r\n');
  return /^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(end < 0 ? head : head.slice(0, end))?.[1];
}

/** The delivery a Message-ID of ours names (`<d123.mac@domain>`). */
export function deliveryIdOf(messageId: string): number | undefined {
  const match = /^<d(\d+)[.r]/.exec(messageId);
  return match === null ? undefined : Number(match[1]);
}

/** How the sink answers one message: accept it, refuse it, never answer, or cut the line. */
export type SinkAnswer =
  'accept' | 'stall' | 'drop' | 'drop-early' | { readonly code: number; readonly text: string };

export interface Sink {
  readonly url: string;
  /** Copies accepted (answered 250) per Message-ID. */
  readonly accepted: Map<string, number>;
  /** Messages whose DATA arrived, per Message-ID, whatever the answer. */
  readonly seen: Map<string, number>;
  /** Answers given, by kind. */
  readonly answers: Record<string, number>;
  /** Accepted copies in all. */
  acceptedTotal(): number;
  /** Message-IDs accepted more than once, with their copies. */
  duplicates(): [string, number][];
  /** The accepted messages' bytes, when `keep` was asked for. */
  readonly kept: Buffer[];
  close(): Promise<void>;
}

/**
 * A real smtp-server that records the Message-ID of every message and answers as `decide` says
 * (accepting everything by default). Keeps only Message-IDs unless `keep`: a 10,000-message
 * wave of real emails is a lot of bytes.
 */
export async function startSink(
  options: {
    decide?: (messageId: string | undefined, seenBefore: number) => SinkAnswer;
    keep?: boolean;
  } = {},
): Promise<Sink> {
  const accepted = new Map<string, number>();
  const seen = new Map<string, number>();
  const answers: Record<string, number> = {};
  const kept: Buffer[] = [];
  let acceptedTotal = 0;
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Stalled sessions are the client's to give up; a closing sink does not wait for them.
    closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let early: SinkAnswer | undefined;
      const dropSession = () => {
        for (const connection of server.connections) {
          if (connection.id === session.id) connection._socket.destroy();
        }
      };
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (chunks.length === 1 && options.decide !== undefined) {
          // Decided on the first chunk, so that a drop can come before the message is complete.
          const id = messageIdOf(chunk);
          early = options.decide(id, id === undefined ? 0 : (seen.get(id) ?? 0));
          if (early === 'drop-early') {
            answers['drop-early'] = (answers['drop-early'] ?? 0) + 1;
            dropSession();
          }
        }
      });
      stream.on('end', () => {
        if (early === 'drop-early') return;
        const data = Buffer.concat(chunks);
        const id = messageIdOf(data) ?? '(none)';
        const answer = early ?? 'accept';
        seen.set(id, (seen.get(id) ?? 0) + 1);
        const label = typeof answer === 'string' ? answer : String(answer.code);
        answers[label] = (answers[label] ?? 0) + 1;
        if (answer === 'stall') return; // never answered: the client's socket timeout ends it
        if (answer === 'drop') return dropSession();
        if (answer === 'accept') {
          accepted.set(id, (accepted.get(id) ?? 0) + 1);
          acceptedTotal += 1;
          if (options.keep) kept.push(data);
          return callback();
        }
        callback(Object.assign(new Error(answer.text), { responseCode: answer.code }));
      });
    },
  });
  // A client killed mid-session resets its connection: that is the test, not a failure of the sink.
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    seen,
    answers,
    kept,
    acceptedTotal: () => acceptedTotal,
    duplicates: () => [...accepted].filter(([, n]) => n > 1),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

// What a clean shell would have: none of the developer's or CI's Digital Gym settings.
const gymVariables = /^(DATABASE_URL|SMTP_|IMAP_URL|GYM_|DKIM_|LOG_LEVEL|FAULT_)/;

export interface WorkerProcess {
  readonly name: string;
  /** Every JSON line it wrote to stdout, parsed. */
  readonly events: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/** A dispatch-worker.ts process (the dispatcher loop with a short lease). */
export function startWorker(
  name: string,
  settings: {
    databaseUrl: string;
    smtpUrl: string;
    leaseSeconds: number;
    /** The lease of a message in flight; the dispatcher's default (three leases) when absent. */
    sendLeaseSeconds?: number;
    batchSize: number;
    concurrency: number;
  },
): WorkerProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !gymVariables.test(key)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript], {
    cwd: root,
    env: {
      ...inherited,
      DATABASE_URL: settings.databaseUrl,
      SMTP_URL: settings.smtpUrl,
      GYM_SECRET: secret,
      FAULT_WORKER: name,
      FAULT_CLOCK: clockStart,
      FAULT_LEASE_SECONDS: String(settings.leaseSeconds),
      FAULT_SEND_LEASE_SECONDS:
        settings.sendLeaseSeconds === undefined ? '' : String(settings.sendLeaseSeconds),
      FAULT_BATCH_SIZE: String(settings.batchSize),
      FAULT_CONCURRENCY: String(settings.concurrency),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        events.push({ event: 'unparsed', line });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    events,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** The sum of one count over a worker's `dispatched` events. */
export function dispatched(worker: WorkerProcess, key: string): number {
  return worker.events
    .filter((e) => e.event === 'dispatched')
    .reduce((sum, e) => sum + Number(e[key] ?? 0), 0);
}

export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** `pg_ctl restart -m fast`: every session is cut; resolves when it accepts connections again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A PostgreSQL cluster of our own on a free port (testing.md, as .ci/run makes one): initdb and
 * pg_ctl as the postgres user when we are root. Ours to restart without disturbing anyone.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(a) - Number(b));
  const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  const dir = await mkdtemp(join(tmpdir(), 'gym-faults-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const asPostgres = (file: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  const data = join(dir, 'data');
  const port = await freePort();
  await asPostgres(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres']);
  await asPostgres(`${bin}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await asPostgres(`${bin}/pg_ctl`, [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-m',
        'fast',
        '-w',
        'restart',
      ]);
    },
    async stop() {
      await asPostgres(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
