/**
 * `npm run bench [-- --learners N --workers W --json]`: how fast Digital Gym is on this machine,
 * end to end, in one run:
 *
 *  1. enrol and plan: N generated learners (CSV text) read and enrolled into a fresh schema;
 *  2. a weekly wave: week 1's kickoff email and practice invite of every learner (and the
 *     managers' first digest, which falls due the same morning), sent by W `gym run --once`
 *     worker processes (built JavaScript from dist/, as deployed) on one PostgreSQL to an SMTP
 *     sink in a process of its own; the workers' peak RSS, at N and at 5N (memory must not grow
 *     with N: workers claim a batch at a time); the workers' CPU profile by stage;
 *  3. the machine's SMTP limit, measured right after the wave on the same sink: a raw client
 *     sending pre-built messages of the same size, plain and pipelined (the faster is the
 *     limit), and our SMTP transport alone with pre-built messages;
 *  4. rendering: our per-recipient fill versus mjml2html per recipient;
 *  5. inbound: replies read per second (readMessage over the corpus) and handled per second
 *     (handleInbound: matched against the database, recorded, acknowledged).
 *
 * The database is BENCH_DATABASE_URL, TEST_DATABASE_URL or postgres://root@127.0.0.1:5432/test;
 * each run makes schemas of its own (gym_bench_*) and drops them, also on Ctrl+C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { createDatabase, type GymDatabase } from '../src/db/database.js';
import { enrolmentStore } from '../src/db/enrolment-store.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { readCohortCsv } from '../src/enrol/cohort-csv.js';
import { precompileLayouts } from '../src/db/compiled-layouts.js';
import { precompileProgrammes } from '../src/db/compiled-programmes.js';
import { enrolCohort, type ProgrammeVersion } from '../src/engine/enrol.js';
import { loadSequenceFiles } from '../src/sequence/load-files.js';
import { cohortCsv } from './cohort.js';
import { cpuMeter, type CpuReading } from './cpu.js';
import { loadInboundCorpus, measureHandling, measureReading } from './inbound.js';
import { summariseProfiles, type ProfileBucket } from './profile.js';
import { prebuiltMessage, rawSmtpRun, type RawRunResult } from './raw-smtp.js';
import { measureRendering } from './render.js';
import { nodemailerPoolRun, oursRun, smtpConnectionRun } from './smtp-clients.js';
import type { SinkReply, SinkRequest, SinkStats } from './sink.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    learners: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'smtp-only': { type: 'boolean', default: false },
    'message-bytes': { type: 'string', default: '36000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (args.help) {
  process.stdout.write(
    'usage: npm run bench [-- --learners N (1000) --workers W (2) --json --no-profile]\n' +
      '       npm run bench -- --smtp-only [--message-bytes B (36000)]: the SMTP clients alone\n' +
      'the wave runs at N and at 5N; the workers run under --cpu-prof (unless --no-profile)\n' +
      'and the report shows where their CPU goes, by stage\n' +
      'database: BENCH_DATABASE_URL, TEST_DATABASE_URL or postgres://root@127.0.0.1:5432/test\n',
  );
  process.exit(0);
}
function positiveInteger(name: string, text: string): number {
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench: --${name} ${text}: expected a whole number above 0\n`);
    process.exit(1);
  }
  return value;
}
const learners = positiveInteger('learners', args.learners);
const workers = positiveInteger('workers', args.workers);
const json = args.json;
const profile = !args['no-profile'];

const adminUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://root@127.0.0.1:5432/test';
const runId = randomBytes(4).toString('hex');
/** Every connection of this run (ours and the workers') says so, to be ended on Ctrl+C. */
const applicationName = `gym_bench_${runId}`;
const mail = {
  secret: 'bench-secret-of-at-least-32-characters!!',
  from: 'Digital Gym <gym@gym.bench.test>',
  replyAddress: 'progress@gym.bench.test',
};
/** Everyone starts on this Monday; the cohort is read as if today were four weeks before. */
const startsOn = '2027-01-04';
const readOn = new Date('2026-12-07T10:00:00Z');

// ---------------------------------------------------------------------------------------------
// Output helpers: progress to stderr, results to stdout

const int = (n: number) => Math.round(n).toLocaleString('en-GB');
const fixed = (n: number, digits = 1) =>
  n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => `${int(bytes / 1024 / 1024)} MB`;
const seconds = (ms: number) => `${fixed(ms / 1000, ms < 10_000 ? 2 : 1)} s`;
const startedAt = performance.now();
function say(line: string): void {
  const at = ((performance.now() - startedAt) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${at} s] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Clean-up: child processes, database sessions, schemas, temporary folders

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
let admin: GymDatabase | undefined;

async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`bench: clean-up: ${(error as Error).message}\n`);
    }
  }
  await admin?.close();
  admin = undefined;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}: stopping the workers and dropping the schemas\n`);
    // Sessions of this run still inside a transaction would hold the schema's locks.
    const endSessions = async () => {
      if (admin === undefined) return;
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = ${applicationName} and pid <> pg_backend_pid()`.execute(admin.db);
    };
    cleanups.push(endSessions);
    void cleanUp().finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 15_000).unref();
  });
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// The database: a schema of our own per cohort

function schemaUrl(schema: string): string {
  const url = new URL(adminUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

interface Schema {
  readonly name: string;
  readonly url: string;
  readonly database: GymDatabase;
  drop(): Promise<void>;
}

async function createSchema(label: string): Promise<Schema> {
  const name = `gym_bench_${runId}_${label}`;
  await sql`create schema ${sql.id(name)}`.execute(admin!.db);
  const url = schemaUrl(name);
  const database = await createDatabase({ kind: 'postgres', url, poolSize: 4 });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await database.close();
    await sql`drop schema if exists ${sql.id(name)} cascade`.execute(admin!.db);
  };
  cleanups.push(drop);
  return { name, url, database, drop };
}

// ---------------------------------------------------------------------------------------------
// Child processes

/**
 * `node [--import tsx] [--import probe] script args`, in the repository, with our env on top: a
 * `.ts` script through tsx, a built `.js` one (the workers, from `dist`) as Node runs it.
 */
function startNode(
  script: string,
  scriptArgs: readonly string[],
  options: { env?: Record<string, string>; ipc?: boolean; probe?: boolean; nodeArgs?: string[] },
): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      ...(options.probe ? ['--import', './bench/rss-probe.js'] : []),
      script,
      ...scriptArgs,
    ],
    {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: options.ipc ? ['ignore', 'ignore', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Sink {
  readonly port: number;
  request(request: SinkRequest): Promise<SinkReply>;
  stats(): Promise<SinkStats>;
  stop(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const child = startNode('bench/sink.ts', [], { ipc: true });
  const waiting: ((reply: SinkReply) => void)[] = [];
  let ready: ((port: number) => void) | undefined;
  const port = new Promise<number>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) =>
      reject(new Error(`the SMTP sink exited (${code}) before listening`)),
    );
  });
  child.on('message', (reply: SinkReply) => {
    if (reply.type === 'ready') ready?.(reply.port);
    else waiting.shift()?.(reply);
  });
  const request = (message: SinkRequest) =>
    new Promise<SinkReply>((resolve) => {
      waiting.push(resolve);
      child.send(message);
    });
  const sink: Sink = {
    port: await port,
    request,
    stats: async () => (await request({ type: 'stats' })) as SinkStats,
    async stop() {
      if (child.exitCode !== null) return;
      child.disconnect();
      await once(child, 'exit');
    },
  };
  cleanups.push(() => sink.stop());
  return sink;
}

interface ProbeReport {
  readonly pid: number;
  readonly maxRss: number;
  readonly sampledPeakRss: number;
  readonly peakHeapUsed: number;
  readonly cpuMicros: number;
  readonly wallMs: number;
}

interface WorkerResult {
  readonly name: string;
  readonly code: number | null;
  readonly probe: ProbeReport | undefined;
  readonly sent: number;
  readonly digestsSent: number;
  readonly stderrTail: string;
}

async function runWorker(
  name: string,
  env: Record<string, string>,
  clock: string,
  profileDir: string | undefined,
) {
  // As a deployment runs it (see docker-compose.yml): the built JavaScript, with a bounded old
  // space, so that garbage is collected before it piles up (a worker's live heap is ~50 MB).
  const child = startNode(
    'dist/cli/main.js',
    ['run', '--once', '--clock', clock, '--worker', name],
    {
      env,
      probe: true,
      nodeArgs: [
        `--max-old-space-size=${workerOldSpaceMb}`,
        ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
      ],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout!.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  let probe: ProbeReport | undefined;
  let sent = 0;
  let digestsSent = 0;
  for (const line of stderr.split('\n')) {
    if (line.startsWith('BENCH_PROBE ')) probe = JSON.parse(line.slice(12)) as ProbeReport;
    else if (line.startsWith('{') && line.includes('"sent"')) {
      const log = JSON.parse(line) as { sent?: number; digests?: { sent?: number } };
      sent = log.sent ?? sent;
      digestsSent = log.digests?.sent ?? digestsSent;
    }
  }
  const result: WorkerResult = {
    name,
    code,
    probe,
    sent,
    digestsSent,
    stderrTail: stderr.split('\n').slice(-8).join('\n'),
  };
  return result;
}

/** The workers' `--max-old-space-size`, as in docker-compose.yml. */
const workerOldSpaceMb = 128;

/** The workers run the built JavaScript: built here, so that it is the code of this tree. */
async function buildDist(): Promise<void> {
  const child = startNode('node_modules/typescript/bin/tsc', ['-p', 'tsconfig.build.json'], {});
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`building dist/ (tsc -p tsconfig.build.json) failed:\n${output}`);
}

// ---------------------------------------------------------------------------------------------
// Phases

function loadProgrammes(): ProgrammeVersion[] {
  const results = loadSequenceFiles(['sequences'], root);
  const broken = results.filter((r) => !r.ok);
  if (broken.length > 0)
    throw new Error(`sequences with problems: ${broken.map((r) => r.path).join(', ')}`);
  return results.flatMap((r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []));
}

interface EnrolFigures {
  readonly learners: number;
  readonly managers: number;
  readonly csvBytes: number;
  readonly readMs: number;
  readonly enrolMs: number;
  /** Of enrolMs, matching and planning every learner (pure code, before the transaction). */
  readonly planMs: number;
  readonly deliveries: number;
  readonly learnersPerSecond: number;
  /** Compiling and storing the programmes' emails after the import, as `gym enrol` does. */
  readonly compileMs: number;
  readonly programmes: Record<string, number>;
  readonly cpu: CpuReading;
}

async function enrolPhase(
  schema: Schema,
  count: number,
  programmes: readonly ProgrammeVersion[],
): Promise<EnrolFigures> {
  const { text, summary } = cohortCsv(count, startsOn, schema.name.slice(-5));
  const readStart = performance.now();
  const cohort = readCohortCsv(text, 'bench-cohort.csv', { now: readOn });
  const readMs = performance.now() - readStart;
  if (cohort.problems.length > 0)
    throw new Error(`the generated cohort has problems: ${JSON.stringify(cohort.problems[0])}`);
  const meter = cpuMeter(admin!.db as Kysely<unknown>, applicationName);
  const enrolStart = performance.now();
  let shown = performance.now();
  let planMs = 0;
  const results = await enrolCohort(enrolmentStore(schema.database.db), cohort.rows, programmes, {
    dryRun: false,
    holidays: new Set(),
    onProgress: (done, total) => {
      // enrolCohort matches and plans every row before its transaction: the first row written
      // marks the end of planning.
      if (done === 1) planMs = performance.now() - enrolStart;
      if (performance.now() - shown > 10_000) {
        shown = performance.now();
        say(`  enrolled ${int(done)} / ${int(total)}`);
      }
    },
  });
  const enrolMs = performance.now() - enrolStart;
  const cpu = await meter.stop();
  // What `gym enrol` does next, so that the workers find every programme compiled, as they do
  // in production, and do not run MJML during the wave.
  const compileStart = performance.now();
  await precompileProgrammes(schema.database.db, { validation: 'soft' });
  await precompileLayouts(schema.database.db, { validation: 'soft' });
  const compileMs = performance.now() - compileStart;
  const programmeCounts: Record<string, number> = {};
  for (const r of results)
    programmeCounts[r.programmeId] = (programmeCounts[r.programmeId] ?? 0) + 1;
  return {
    learners: results.length,
    managers: summary.managers,
    csvBytes: Buffer.byteLength(text),
    readMs,
    enrolMs,
    planMs,
    deliveries: results.reduce((sum, r) => sum + r.deliveries, 0),
    learnersPerSecond: results.length / ((readMs + enrolMs) / 1000),
    compileMs,
    programmes: programmeCounts,
    cpu,
  };
}

interface WaveFigures {
  readonly learners: number;
  readonly workers: number;
  readonly clock: string;
  readonly due: { email: number; invite: number };
  readonly sent: { email: number; invite: number; digests: number };
  readonly notSent: Record<string, number>;
  readonly accepted: number;
  readonly bytes: number;
  readonly averageBytes: number;
  readonly wallMs: number;
  /** From starting the workers to the sink's first message: start-up, migrations, MJML compile. */
  readonly firstMessageMs: number;
  readonly sinkWindowMs: number;
  readonly messagesPerSecond: number;
  readonly messagesPerSecondWhileSending: number;
  readonly workerReports: {
    name: string;
    sent: number;
    digests: number;
    maxRss: number;
    sampledPeakRss: number;
    peakHeapUsed: number;
    cpuSeconds: number;
    wallSeconds: number;
  }[];
  readonly cpu: {
    machineBusySeconds: number | undefined;
    capacitySeconds: number;
    workersSeconds: number;
    sinkSeconds: number;
    postgresSeconds: number;
    benchSeconds: number;
    /** Busy CPU that is none of ours: other users of the machine. */
    othersSeconds: number | undefined;
    workerMillisPerMessage: number;
    sinkMillisPerMessage: number;
    postgresMillisPerMessage: number;
    loadBefore: number;
    loadAfter: number;
  };
  readonly profile:
    { dir: string; totalMs: number; buckets: ProfileBucket[]; stages: ProfileBucket[] } | undefined;
}

async function wavePhase(
  schema: Schema,
  count: number,
  sink: Sink,
  dataDir: string,
  label: string,
): Promise<WaveFigures> {
  const db = schema.database.db;
  // Week 1's kickoff and the practice invite that goes with it are due on Monday morning in each
  // learner's zone; the clock is a minute after the last of them (Los Angeles), when every zone
  // is still on a working day and within late_grace.
  const firstWeek = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.max('due_at').as('last'))
    .where('step_key', 'in', ['w01-kickoff', 'w01-practice'])
    .executeTakeFirstOrThrow();
  const clock = new Date(new Date(firstWeek.last).getTime() + 60_000);
  const dueRows = await db
    .selectFrom('deliveries')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('due_at', '<=', clock)
    .groupBy('kind')
    .execute();
  const due = { email: 0, invite: 0 };
  // The welcome (and, after week 12, the programme end) go out as emails do.
  for (const row of dueRows)
    if (row.kind !== 'acknowledgement')
      due[row.kind === 'invite' ? 'invite' : 'email'] += Number(row.n);

  await sink.request({ type: 'reset' });
  const env = {
    DATABASE_URL: schema.url,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    GYM_SECRET: mail.secret,
    GYM_FROM: mail.from,
    GYM_REPLY_ADDRESS: mail.replyAddress,
    GYM_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  // Kept after the run (not under dataDir), for a closer look: `node --cpu-prof` writes them.
  const profileDir = profile
    ? mkdtempSync(join(tmpdir(), `gym-bench-profiles-${label}-`))
    : undefined;
  const meter = cpuMeter(admin!.db as Kysely<unknown>, applicationName);
  const startedAtEpoch = Date.now();
  const started = performance.now();
  const expected = due.email + due.invite;
  const progress = setInterval(() => {
    void sink.stats().then((stats) => {
      const elapsed = (performance.now() - started) / 1000;
      say(
        `  wave: ${int(stats.messages)} / ~${int(expected)} messages accepted, ${int(stats.messages / elapsed)} msg/s`,
      );
    });
  }, 15_000);
  let results: WorkerResult[];
  try {
    results = await Promise.all(
      Array.from({ length: workers }, (_, i) =>
        runWorker(`bench-${String.fromCharCode(97 + i)}`, env, clock.toISOString(), profileDir),
      ),
    );
  } finally {
    clearInterval(progress);
  }
  const wallMs = performance.now() - started;
  const cpu = await meter.stop();
  const failedWorker = results.find((r) => r.code !== 0);
  if (failedWorker !== undefined)
    throw new Error(
      `worker ${failedWorker.name} exited with ${failedWorker.code}:\n${failedWorker.stderrTail}`,
    );
  const stats = await sink.stats();

  const statuses = await db
    .selectFrom('deliveries')
    .select(['kind', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('due_at', '<=', clock)
    .groupBy(['kind', 'status'])
    .execute();
  const sent = { email: 0, invite: 0, digests: 0 };
  const notSent: Record<string, number> = {};
  for (const row of statuses) {
    if (row.status === 'sent' && row.kind !== 'acknowledgement')
      sent[row.kind === 'invite' ? 'invite' : 'email'] += Number(row.n);
    else notSent[`${row.kind} ${row.status}`] = Number(row.n);
  }
  const digests = await db
    .selectFrom('manager_digests')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  for (const row of digests) {
    if (row.status === 'sent') sent.digests += Number(row.n);
    else notSent[`digest ${row.status}`] = Number(row.n);
  }

  const workerSeconds = results.reduce((sum, r) => sum + (r.probe?.cpuMicros ?? 0), 0) / 1e6;
  const sinkSeconds = stats.cpuMicros / 1e6;
  const others =
    cpu.machineBusySeconds === undefined
      ? undefined
      : cpu.machineBusySeconds -
        workerSeconds -
        sinkSeconds -
        cpu.postgresSeconds -
        cpu.benchSeconds;
  const perMessage = (cpuSeconds: number) => (cpuSeconds * 1000) / Math.max(1, stats.messages);
  const sinkWindowMs =
    stats.firstAt === undefined || stats.lastAt === undefined ? 0 : stats.lastAt - stats.firstAt;
  return {
    learners: count,
    workers,
    clock: clock.toISOString(),
    due,
    sent,
    notSent,
    accepted: stats.messages,
    bytes: stats.bytes,
    averageBytes: stats.bytes / Math.max(1, stats.messages),
    wallMs,
    firstMessageMs: stats.firstAt === undefined ? Number.NaN : stats.firstAt - startedAtEpoch,
    sinkWindowMs,
    messagesPerSecond: stats.messages / (wallMs / 1000),
    messagesPerSecondWhileSending: sinkWindowMs > 0 ? stats.messages / (sinkWindowMs / 1000) : 0,
    workerReports: results.map((r) => ({
      name: r.name,
      sent: r.sent,
      digests: r.digestsSent,
      maxRss: r.probe?.maxRss ?? Number.NaN,
      sampledPeakRss: r.probe?.sampledPeakRss ?? Number.NaN,
      peakHeapUsed: r.probe?.peakHeapUsed ?? Number.NaN,
      cpuSeconds: (r.probe?.cpuMicros ?? Number.NaN) / 1e6,
      wallSeconds: (r.probe?.wallMs ?? Number.NaN) / 1000,
    })),
    cpu: {
      machineBusySeconds: cpu.machineBusySeconds,
      capacitySeconds: (wallMs / 1000) * availableParallelism(),
      workersSeconds: workerSeconds,
      sinkSeconds,
      postgresSeconds: cpu.postgresSeconds,
      benchSeconds: cpu.benchSeconds,
      othersSeconds: others,
      workerMillisPerMessage: perMessage(workerSeconds),
      sinkMillisPerMessage: perMessage(sinkSeconds),
      postgresMillisPerMessage: perMessage(cpu.postgresSeconds),
      loadBefore: cpu.loadBefore,
      loadAfter: cpu.loadAfter,
    },
    profile:
      profileDir === undefined ? undefined : { dir: profileDir, ...summariseProfiles(profileDir) },
  };
}

interface RawFigures {
  /** What was measured: `raw client`, `nodemailer pool`, `SMTPConnection`, `ours`... */
  name: string;
  connections: number;
  sent: number;
  accepted: number;
  seconds: number;
  messagesPerSecond: number;
  clientMillisPerMessage: number;
  sinkMillisPerMessage: number;
}

interface SmtpLimitFigures {
  readonly messageBytes: number;
  readonly raw: RawFigures;
  /** The same client pipelining MAIL FROM, RCPT TO and DATA (RFC 2920): 2 round trips. */
  readonly pipelined: RawFigures;
  /** Pipelined and streamed: the next envelope follows the data's end, 1 round trip a message. */
  readonly streamed: RawFigures;
  /** The fastest of the raw clients: the machine's limit the wave is compared with. */
  readonly limitMessagesPerSecond: number;
  /** Our transport alone (src/mail/smtp-transport.ts), pre-built messages, as the dispatcher. */
  readonly transport: RawFigures & { inFlight: number };
  /** nodemailer's pool at 5, 10, 20 connections and its SMTPConnection used directly. */
  readonly nodemailer: RawFigures[];
}

/**
 * Every client on the same sink with the same messages, interleaved: `rounds` rounds, each
 * running every client in turn for its share of `durationMs`, so that a change in the machine's
 * load (other processes) weighs on all of them alike.
 */
async function smtpLimitPhase(
  sink: Sink,
  messageBytes: number,
  durationMs = 4_500,
  rounds = 3,
): Promise<SmtpLimitFigures> {
  const messages = Array.from({ length: 64 }, (_, i) => prebuiltMessage(messageBytes, i));
  const port = sink.port;
  interface Client {
    readonly name: string;
    readonly connections: number;
    readonly run: (durationMs: number) => Promise<RawRunResult>;
    sent: number;
    accepted: number;
    elapsedMs: number;
    cpuMicros: number;
    sinkCpuMicros: number;
  }
  const client = (
    name: string,
    connections: number,
    run: (durationMs: number) => Promise<RawRunResult>,
  ): Client => ({
    name,
    connections,
    run,
    sent: 0,
    accepted: 0,
    elapsedMs: 0,
    cpuMicros: 0,
    sinkCpuMicros: 0,
  });
  const rawClient = (name: string, pipelined: boolean | 'streamed') =>
    client(name, rawConnections, (ms) =>
      rawSmtpRun({ port, connections: rawConnections, durationMs: ms, messages, pipelined }),
    );
  // As the dispatcher drives it: its default connections, 10 messages in flight.
  const inFlight = 10;
  const clients = [
    rawClient('raw client', false),
    rawClient('raw client, pipelined', true),
    rawClient('raw client, pipelined and streamed', 'streamed'),
    ...[5, 10, 20].map((connections) =>
      client('nodemailer pool', connections, (ms) =>
        nodemailerPoolRun({ port, connections, durationMs: ms, messages }),
      ),
    ),
    ...[5, 10].map((connections) =>
      client('nodemailer SMTPConnection', connections, (ms) =>
        smtpConnectionRun({ port, connections, durationMs: ms, messages }),
      ),
    ),
    client('our transport', transportConnections, (ms) =>
      oursRun({ port, connections: transportConnections, inFlight, durationMs: ms, messages }),
    ),
  ];
  // A short warm-up each (connections, JIT).
  for (const c of clients) await c.run(300);
  for (let round = 0; round < rounds; round += 1) {
    for (const c of clients) {
      await sink.request({ type: 'reset' });
      const result = await c.run(durationMs / rounds);
      const stats = await sink.stats();
      c.sent += result.sent;
      c.accepted += stats.messages;
      c.elapsedMs += result.elapsedMs;
      c.cpuMicros += result.cpuMicros;
      c.sinkCpuMicros += stats.cpuMicros;
    }
  }
  const figures = clients.map((c): RawFigures => {
    const f = {
      name: c.name,
      connections: c.connections,
      sent: c.sent,
      accepted: c.accepted,
      seconds: c.elapsedMs / 1000,
      messagesPerSecond: c.sent / (c.elapsedMs / 1000),
      clientMillisPerMessage: c.cpuMicros / 1000 / Math.max(1, c.sent),
      sinkMillisPerMessage: c.sinkCpuMicros / 1000 / Math.max(1, c.accepted),
    };
    say(
      `  ${f.name}, ${f.connections} connections: ${int(f.messagesPerSecond)} msg/s, client ${fixed(f.clientMillisPerMessage, 3)} ms CPU/msg`,
    );
    return f;
  });
  const [raw, pipelined, streamed] = figures as [RawFigures, RawFigures, RawFigures];
  return {
    messageBytes,
    raw,
    pipelined,
    streamed,
    limitMessagesPerSecond: Math.max(
      raw.messagesPerSecond,
      pipelined.messagesPerSecond,
      streamed.messagesPerSecond,
    ),
    transport: { ...figures.at(-1)!, inFlight },
    nodemailer: figures.slice(3, -1),
  };
}

const rawConnections = 4;
/** The production transport's default connections (createSmtpTransport). */
const transportConnections = 5;

// ---------------------------------------------------------------------------------------------
// The run

async function main() {
  const totalStart = performance.now();
  if (args['smtp-only']) {
    // The SMTP clients side by side, without a wave: to compare transports quickly.
    const sink = await startSink();
    const bytes = positiveInteger('message-bytes', args['message-bytes']);
    say(`SMTP clients on the sink at 127.0.0.1:${sink.port}, ${int(bytes)}-byte messages`);
    const smtp = await smtpLimitPhase(sink, bytes);
    await cleanUp();
    if (json) process.stdout.write(`${JSON.stringify(smtp, null, 2)}\n`);
    else process.stdout.write(smtpTable(smtp));
    return;
  }
  const loadAverageAtStart = loadavg()[0]!;
  const programmes = loadProgrammes();
  admin = await createDatabase({
    kind: 'postgres',
    url: (() => {
      const url = new URL(adminUrl);
      url.searchParams.set('application_name', applicationName);
      return url.toString();
    })(),
    poolSize: 2,
  });
  const { rows: versionRows } = await sql<{
    version: string;
  }>`select current_setting('server_version') as version`.execute(admin.db);
  say('building dist/ for the workers (tsc -p tsconfig.build.json)');
  await buildDist();
  const dataDir = mkdtempSync(join(tmpdir(), 'gym-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const sink = await startSink();
  say(
    `bench: N=${int(learners)} learners, W=${workers} workers, ${availableParallelism()} CPUs, ` +
      `PostgreSQL ${versionRows[0]?.version ?? '?'}; SMTP sink on 127.0.0.1:${sink.port}`,
  );

  // RSS at N and at 5N: a worker's peak must not grow with the wave.
  const sizes = [learners, 5 * learners];
  const enrols: EnrolFigures[] = [];
  const waves: WaveFigures[] = [];
  let handled: Awaited<ReturnType<typeof measureHandling>> | undefined;
  let smtp: SmtpLimitFigures | undefined;
  const corpus = loadInboundCorpus(root);
  for (const [index, count] of sizes.entries()) {
    const schema = await createSchema(index === sizes.length - 1 ? 'n5' : 'n');
    await migrateToLatest(schema.database.db);
    say(`enrol: ${int(count)} learners into schema ${schema.name}`);
    const enrol = await enrolPhase(schema, count, programmes);
    enrols.push(enrol);
    say(
      `  ${int(enrol.learners)} learners, ${int(enrol.deliveries)} deliveries in ${seconds(enrol.readMs + enrol.enrolMs)}: ${int(enrol.learnersPerSecond)} learners/s`,
    );
    say(`wave: ${int(count)} learners, ${workers} workers`);
    const wave = await wavePhase(
      schema,
      count,
      sink,
      dataDir,
      index === sizes.length - 1 ? 'n5' : 'n',
    );
    waves.push(wave);
    say(
      `  ${int(wave.accepted)} messages in ${seconds(wave.wallMs)}: ${int(wave.messagesPerSecond)} msg/s; peak RSS ${wave.workerReports.map((w) => mb(w.maxRss)).join(', ')}`,
    );
    if (index === sizes.length - 1) {
      // The limit right after the wave, on the same sink and the same machine's load.
      say(
        `SMTP limit: raw client (plain, then pipelined), then our transport alone, ${int(wave.averageBytes)}-byte messages`,
      );
      smtp = await smtpLimitPhase(sink, Math.round(wave.averageBytes));
      say(
        "inbound: the listener's drain of a Maildir holding 2,000 replies to the wave (handleInboundBatch, 50 at a time)",
      );
      handled = await measureHandling({
        db: schema.database.db,
        corpus,
        count: 2_000,
        secret: mail.secret,
        replyAddress: mail.replyAddress,
        now: new Date(new Date(wave.clock).getTime() + 3_600_000),
      });
    }
    await schema.drop();
  }

  const main = waves.at(-1)!;
  if (smtp === undefined) throw new Error('the SMTP limit was not measured');

  say('rendering: per-recipient fill vs mjml2html per recipient (300 recipients)');
  const comms =
    programmes.find((p) => p.sequence.id === 'social-media-for-comms') ?? programmes[0]!;
  const render = await measureRendering(comms.sequence, 300);

  say(`inbound: readMessage over the corpus, repeated to ~2,000 messages`);
  const read = await measureReading(corpus, 2_000);

  const report = {
    machine: {
      loadAverageAtStart,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      postgres: versionRows[0]?.version,
    },
    options: { learners, workers, rssCheckLearners: 5 * learners },
    enrol: enrols,
    waves,
    smtp: {
      ...smtp,
      // Against the faster raw client: the limit is what the machine can do.
      oursFractionOfRaw: main.messagesPerSecond / smtp.limitMessagesPerSecond,
      oursWhileSendingFractionOfRaw:
        main.messagesPerSecondWhileSending / smtp.limitMessagesPerSecond,
    },
    render,
    inbound: {
      read: {
        ...read,
        emlFiles: corpus.emlFiles,
        corpusBodies: corpus.corpusBodies,
        messagesPerSecond: read.messages / (read.elapsedMs / 1000),
      },
      handled:
        handled === undefined
          ? undefined
          : { ...handled, messagesPerSecond: handled.messages / (handled.elapsedMs / 1000) },
    },
    totalSeconds: (performance.now() - totalStart) / 1000,
  };
  await cleanUp();
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(table(report));
}

type Report = {
  machine: {
    loadAverageAtStart: number;
    cpus: number;
    cpuModel: string;
    node: string;
    postgres: string | undefined;
  };
  options: { learners: number; workers: number; rssCheckLearners: number | undefined };
  enrol: EnrolFigures[];
  waves: WaveFigures[];
  smtp: SmtpLimitFigures & { oursFractionOfRaw: number; oursWhileSendingFractionOfRaw: number };
  render: Awaited<ReturnType<typeof measureRendering>>;
  inbound: {
    read: Awaited<ReturnType<typeof measureReading>> & {
      emlFiles: number;
      corpusBodies: number;
      messagesPerSecond: number;
    };
    handled:
      (Awaited<ReturnType<typeof measureHandling>> & { messagesPerSecond: number }) | undefined;
  };
  totalSeconds: number;
};

/** Every SMTP client measured, fastest first, against the limit. */
function smtpTable(smtp: SmtpLimitFigures): string {
  const all = [smtp.raw, smtp.pipelined, smtp.streamed, ...smtp.nodemailer, smtp.transport];
  const lines = [...all]
    .sort((a, b) => b.messagesPerSecond - a.messagesPerSecond)
    .map(
      (c) =>
        `  ${`${c.name}, ${c.connections} conns`.padEnd(44)} ${int(c.messagesPerSecond).padStart(6)} msg/s ` +
        `${fixed((c.messagesPerSecond / smtp.limitMessagesPerSecond) * 100, 0).padStart(4)} % of the limit; ` +
        `client ${fixed(c.clientMillisPerMessage, 3)} ms, sink ${fixed(c.sinkMillisPerMessage, 3)} ms CPU/msg`,
    );
  return `SMTP clients, ${int(smtp.messageBytes)}-byte pre-built messages, one after another on one sink:\n${lines.join('\n')}\n`;
}

function table(report: Report): string {
  const { enrol, waves, smtp, render, inbound } = report;
  const main = waves.at(-1)!;
  const mainEnrol = enrol.at(-1)!;
  const small = waves.length > 1 ? waves[0] : undefined;
  const smallEnrol = enrol.length > 1 ? enrol[0] : undefined;
  const rss = (w: WaveFigures) =>
    w.workerReports.map((r) => int(r.maxRss / 1024 / 1024)).join(' / ');
  const heading = [
    'measure',
    small === undefined ? '' : `N = ${int(small.learners)}`,
    `5N = ${int(main.learners)}`,
  ];
  const rows: string[][] = [
    [
      '1 enrol and plan (read CSV + enrolCohort)',
      smallEnrol === undefined ? '' : `${int(smallEnrol.learnersPerSecond)} learners/s`,
      `${int(mainEnrol.learnersPerSecond)} learners/s`,
    ],
    [
      '  deliveries planned and written',
      smallEnrol === undefined ? '' : int(smallEnrol.deliveries),
      int(mainEnrol.deliveries),
    ],
    [
      `2 weekly wave, W=${main.workers} (accepted / wall time)`,
      small === undefined ? '' : `${int(small.messagesPerSecond)} msg/s`,
      `${int(main.messagesPerSecond)} msg/s`,
    ],
    [
      '  messages accepted by the sink',
      small === undefined ? '' : int(small.accepted),
      int(main.accepted),
    ],
    ['  wall time', small === undefined ? '' : seconds(small.wallMs), seconds(main.wallMs)],
    [
      '  rate from first to last accepted',
      small === undefined ? '' : `${int(small.messagesPerSecondWhileSending)} msg/s`,
      `${int(main.messagesPerSecondWhileSending)} msg/s`,
    ],
    ['  peak RSS per worker (MB)', small === undefined ? '' : rss(small), rss(main)],
    [
      '  worker CPU per message',
      small === undefined ? '' : `${fixed(small.cpu.workerMillisPerMessage, 2)} ms`,
      `${fixed(main.cpu.workerMillisPerMessage, 2)} ms`,
    ],
    [
      `3 raw SMTP client (${smtp.raw.connections} conns, ${int(smtp.messageBytes)} B)`,
      '',
      `${int(smtp.raw.messagesPerSecond)} msg/s`,
    ],
    ['  pipelined raw client', '', `${int(smtp.pipelined.messagesPerSecond)} msg/s`],
    [
      '  ours / the faster (wall; while sending)',
      '',
      `${fixed(report.smtp.oursFractionOfRaw * 100)} %; ${fixed(report.smtp.oursWhileSendingFractionOfRaw * 100)} %`,
    ],
    [
      '  our SMTP transport alone (pre-built)',
      '',
      `${int(smtp.transport.messagesPerSecond)} msg/s`,
    ],
    [
      '4 render: mjml2html / our fill, per recipient',
      '',
      `${int(render.ratio)}× (${fixed(render.mjmlMicros / 1000, 2)} ms vs ${fixed(render.fillMicros)} µs)`,
    ],
    ['5 inbound: readMessage', '', `${int(inbound.read.messagesPerSecond)} msg/s`],
    [
      '  inbound: replies handled, PostgreSQL',
      '',
      inbound.handled === undefined ? 'not run' : `${int(inbound.handled.messagesPerSecond)} msg/s`,
    ],
  ];
  const widths = heading.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ');
  const out: string[] = [];
  out.push(
    `Digital Gym benchmark: ${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}, PostgreSQL ${report.machine.postgres ?? '?'}; load average ${fixed(report.machine.loadAverageAtStart)} at the start`,
    '',
    line(heading),
    line(heading.map((_, c) => '-'.repeat(widths[c]!))),
    ...rows.map(line),
    '',
  );

  const digestNote = main.sent.digests > 0 ? ` + ${int(main.sent.digests)} manager digests` : '';
  const notSent = Object.entries(main.notSent)
    .map(([what, n]) => `${int(n)} ${what}`)
    .join(', ');
  out.push(
    `enrol: ${int(mainEnrol.learners)} learners (${mainEnrol.managers} managers, CSV ${fixed(mainEnrol.csvBytes / 1024 / 1024, 1)} MB read in ${seconds(mainEnrol.readMs)}) enrolled with ${int(mainEnrol.deliveries)} deliveries in ${seconds(mainEnrol.enrolMs)} (planning ${seconds(mainEnrol.planMs)}, writing ${seconds(mainEnrol.enrolMs - mainEnrol.planMs)}) = ${int(mainEnrol.learnersPerSecond)} learners/s; programmes ${Object.entries(
      mainEnrol.programmes,
    )
      .map(([id, n]) => `${id} ${int(n)}`)
      .join(
        ', ',
      )}; CPU while enrolling: bench ${fixed(mainEnrol.cpu.benchSeconds)} s, PostgreSQL ${fixed(mainEnrol.cpu.postgresSeconds)} s of ${fixed(mainEnrol.cpu.wallSeconds)} s wall; then the programmes' emails and the layouts compiled and stored in ${seconds(mainEnrol.compileMs)}`,
    `wave: ${int(main.sent.email)} emails + ${int(main.sent.invite)} invites${digestNote} in ${seconds(main.wallMs)} = ${int(main.messagesPerSecond)} msg/s (W=${main.workers}, sink accepted ${int(main.accepted)}, ${int(main.averageBytes / 1024)} KiB each); ` +
      `${int(main.messagesPerSecondWhileSending)} msg/s from first to last message; SMTP limit (the faster raw client) ${int(smtp.limitMessagesPerSecond)} msg/s; ours = ${fixed(report.smtp.oursFractionOfRaw * 100)}% of the limit (${fixed(report.smtp.oursWhileSendingFractionOfRaw * 100)}% while sending); ` +
      `peak RSS per worker ${main.workerReports.map((w) => mb(w.maxRss)).join(', ')}`,
    `  due at ${main.clock}: ${int(main.due.email)} emails + ${int(main.due.invite)} invites${notSent === '' ? '; all sent' : `; not sent: ${notSent}`}`,
  );
  if (small !== undefined)
    out.push(
      `memory: the wave was run at N = ${int(small.learners)} and at 5N = ${int(main.learners)}; peak RSS per worker ${small.workerReports.map((w) => mb(w.maxRss)).join(', ')} at N vs ${main.workerReports.map((w) => mb(w.maxRss)).join(', ')} at 5N ` +
        `(peak V8 heap used ${small.workerReports.map((w) => mb(w.peakHeapUsed)).join(', ')} vs ${main.workerReports.map((w) => mb(w.peakHeapUsed)).join(', ')}); workers claim 100 rows at a time, so RSS should not grow with N`,
    );
  const cpu = main.cpu;
  const share = (x: number) =>
    cpu.machineBusySeconds === undefined
      ? ''
      : ` (${fixed((x / cpu.machineBusySeconds) * 100, 0)}%)`;
  out.push(
    `where the time goes (wave at N, CPU-seconds): machine busy ${cpu.machineBusySeconds === undefined ? '?' : fixed(cpu.machineBusySeconds)} of ${fixed(cpu.capacitySeconds)} available; ` +
      `workers ${fixed(cpu.workersSeconds)}${share(cpu.workersSeconds)} = ${fixed(cpu.workerMillisPerMessage, 2)} ms/msg; ` +
      `PostgreSQL (this run's sessions) ${fixed(cpu.postgresSeconds)}${share(cpu.postgresSeconds)} = ${fixed(cpu.postgresMillisPerMessage, 2)} ms/msg; ` +
      `sink ${fixed(cpu.sinkSeconds)}${share(cpu.sinkSeconds)} = ${fixed(cpu.sinkMillisPerMessage, 2)} ms/msg; ` +
      `other processes on the machine ${cpu.othersSeconds === undefined ? '?' : `${fixed(cpu.othersSeconds)}${share(cpu.othersSeconds)}`}; ` +
      `load average ${fixed(cpu.loadBefore, 1)} before, ${fixed(cpu.loadAfter, 1)} after; first message ${seconds(main.firstMessageMs)} after the workers started`,
  );
  if (main.profile !== undefined)
    out.push(
      `worker CPU by stage (--cpu-prof, self time of the workers at 5N, ${seconds(main.profile.totalMs)}): ${main.profile.stages
        .map((b) => `${b.where} ${fixed(b.share * 100, 0)}%`)
        .join(', ')}`,
      `  by module: ${main.profile.buckets
        .slice(0, 12)
        .map((b) => `${b.where} ${fixed(b.share * 100, 0)}%`)
        .join(', ')}; profiles kept in ${main.profile.dir}`,
    );
  out.push(
    `smtp (right after the wave): raw client ${int(smtp.raw.sent)} messages in ${seconds(smtp.raw.seconds * 1000)} over ${smtp.raw.connections} connections = ${int(smtp.raw.messagesPerSecond)} msg/s (client ${fixed(smtp.raw.clientMillisPerMessage, 3)} ms CPU/msg, sink ${fixed(smtp.raw.sinkMillisPerMessage, 3)} ms CPU/msg); ` +
      `pipelined ${int(smtp.pipelined.messagesPerSecond)} msg/s (client ${fixed(smtp.pipelined.clientMillisPerMessage, 3)} ms, sink ${fixed(smtp.pipelined.sinkMillisPerMessage, 3)} ms CPU/msg); ` +
      `our transport alone (${smtp.transport.connections} connections, ${smtp.transport.inFlight} in flight, pre-built) ${int(smtp.transport.messagesPerSecond)} msg/s at ${fixed(smtp.transport.clientMillisPerMessage, 3)} ms CPU/msg`,
    smtpTable(smtp).trimEnd(),
    `render (${render.programme}, week 1 kickoff): fill ${fixed(render.fillMicros)} µs vs mjml2html ${fixed(render.mjmlMicros / 1000, 2)} ms per recipient = ${int(render.ratio)}×; ` +
      `compose per message: email ${fixed(render.composeEmailMicros / 1000, 2)} ms (${fixed(render.emailKiB)} KiB), invite ${fixed(render.composeInviteMicros / 1000, 2)} ms (${fixed(render.inviteKiB)} KiB); compile of the programme ${seconds(render.compileMs)}`,
    `inbound: readMessage ${int(inbound.read.messages)} messages (${inbound.read.emlFiles} .eml fixtures + ${inbound.read.corpusBodies} corpus bodies, repeated) in ${seconds(inbound.read.elapsedMs)} = ${int(inbound.read.messagesPerSecond)} msg/s ` +
      `(${Object.entries(inbound.read.kinds)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${kind} ${int(n)}`)
        .join(', ')})`,
  );
  if (inbound.handled !== undefined)
    out.push(
      `  replies handled (a Maildir drained by the listener: read, match by token + thread, record, progress, acknowledgement, filed; 50 at a time, the next read while one is recorded): ${int(inbound.handled.messages)} replies in ${seconds(inbound.handled.elapsedMs)} = ${int(inbound.handled.messagesPerSecond)} msg/s; ` +
        `${int(inbound.handled.processed)} processed, ${int(inbound.handled.failed)} failed, ${int(inbound.handled.progressEvents)} progress events, ${int(inbound.handled.held)} held`,
    );
  out.push(`total ${seconds(report.totalSeconds * 1000)}`, '');
  return out.join('\n');
}

try {
  await main();
} catch (error) {
  if (!interrupted) {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await cleanUp();
    process.exitCode = 1;
  }
}
