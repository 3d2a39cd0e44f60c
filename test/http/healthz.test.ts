import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { startDispatcher, type DispatcherLoop } from '../../src/engine/dispatcher-loop.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { faultReporter, healthBoard, relayWatch } from '../../src/engine/health.js';
import { startGymServer, type GymServer } from '../../src/http/gym-server.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { watchedTransport, type WatchedTransport } from '../../src/mail/watched-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { reply, startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const file = 'test/fixtures/cohorts/example.csv';
const { rows } = readCohortCsv(readFileSync(`${root}/${file}`, 'utf8'), file, {
  now: new Date('2026-12-01T00:00:00Z'),
});
// Monday 4 January 2027, noon UTC: ten messages are due (see test/engine/dispatch.test.ts).
const now = () => new Date('2027-01-04T12:00:00Z');

/** An address of this machine that is not loopback: how a stranger's request arrives. */
function publicAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4');
  if (found === undefined) throw new Error('this machine has no non-loopback IPv4 address');
  return found.address;
}

/** Log lines as they come, and a way to wait for one. */
function recordingLog() {
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const write = (level: string) => (fields: object, message: string) => {
    const line = `${level} ${message} ${JSON.stringify(fields)}`;
    lines.push(line);
    for (const w of waiting.filter((w) => w.pattern.test(line))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(line);
    }
  };
  return {
    lines,
    log: { info: write('info'), warn: write('warn'), error: write('error') },
    waitFor: (pattern: RegExp) =>
      new Promise<string>((resolve) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen !== undefined) resolve(seen);
        else waiting.push({ pattern, resolve });
      }),
    /** Waits for the next line matching `pattern` from now on. */
    waitForNext: (pattern: RegExp) =>
      new Promise<string>((resolve) => waiting.push({ pattern, resolve })),
  };
}

describe.each(testBackends())(
  '/healthz and a relay that refuses everything, on $name',
  (backend) => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let refusing = true;
    let watched: WatchedTransport;
    let server: GymServer;
    let loop: DispatcherLoop;
    const recorded = recordingLog();

    beforeAll(async () => {
      database = await openMigrated(backend);
      await enrolCohort(enrolmentStore(database.db), rows, programmes, {
        dryRun: false,
        holidays: new Set(),
      });
      smtp = await startSmtpServer({
        onAuth(auth, _session, callback) {
          callback(null, { user: auth.username });
        },
        onMailFrom(_address, _session, callback) {
          callback(refusing ? reply(550, '5.7.1 this relay does not know you') : undefined);
        },
      });
      watched = watchedTransport(
        createSmtpTransport({ url: `smtp://gym:relay-password-9f3k@127.0.0.1:${smtp.port}` }),
      );
      const board = healthBoard();
      const faults = faultReporter(board, recorded.log);
      server = await startGymServer({
        store: gymServerStore(database.db),
        secret: 'a-test-secret-of-at-least-32-characters!',
        host: '0.0.0.0',
        port: 0,
        now,
        log: recorded.log,
        health: () => board.faults(),
      });
      loop = startDispatcher(
        {
          store: dispatchStore(database.db),
          transport: watched.transport,
          mail: {
            secret: 'a-test-secret-of-at-least-32-characters!',
            from: 'Digital Gym <gym@gym.example.gov.uk>',
            replyAddress: 'progress@gym.example.gov.uk',
            publicUrl: 'https://gym.example.gov.uk',
          },
          workerId: 'health-test',
          // Every refused row is due again at the next tick, so that recovery shows at once.
          retryDelay: () => 0,
          maxAttempts: 10_000,
          compiled: programmeCache(),
        },
        {
          now,
          log: recorded.log,
          every: '*/2 * * * * *',
          afterTick: relayWatch(watched.takeTally, watched.transport.name, faults, now),
        },
      );
    });
    afterAll(async () => {
      await loop?.stop();
      await server?.close();
      await watched?.transport.close();
      await smtp?.close();
      await database?.close();
    });

    const port = () => new URL(server.url).port;
    const health = async (host: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`http://${host}:${port()}/healthz`, { headers });
      return { status: response.status, body: await response.text() };
    };

    it('answers 503 while the relay refuses, with the reason for loopback only; 200 once it takes mail', async () => {
      const logged = await recorded.waitFor(/^error the SMTP relay/);
      expect(logged).toMatch(
        new RegExp(
          `^error the SMTP relay 127\\.0\\.0\\.1:${smtp.port} took none of the \\d+ messages: MAIL FROM: 550 5\\.7\\.1 this relay does not know you; nothing is being sent`,
        ),
      );

      const local = await health('127.0.0.1');
      expect(local.status).toBe(503);
      expect(local.body).toMatch(
        new RegExp(
          `^unavailable\\nrelay: the SMTP relay 127\\.0\\.0\\.1:${smtp.port} took none of the \\d+ messages: MAIL FROM: 550`,
        ),
      );
      // A stranger, or anyone through a proxy, learns the status and nothing else.
      expect(await health(publicAddress())).toEqual({ status: 503, body: 'unavailable\n' });
      expect(await health('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).toEqual({
        status: 503,
        body: 'unavailable\n',
      });

      // Several ticks refuse everything; the log says so once (once a minute), not per message.
      const ticksBefore = smtp.received.length;
      await recorded.waitFor(/^error .*"reason"/);
      expect(ticksBefore).toBe(0);
      expect(recorded.lines.join('\n')).not.toContain('relay-password-9f3k');

      refusing = false;
      await recorded.waitFor(/^info the relay is working again/);
      expect(await health('127.0.0.1')).toEqual({ status: 200, body: 'ok\n' });
      expect(await health(publicAddress())).toEqual({ status: 200, body: 'ok\n' });
      // The rows refused before are sent over the next ticks, not necessarily the first one.
      const deadline = Date.now() + 120_000; // a safety net on a loaded machine, not a timing
      while (smtp.received.length < 10 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(smtp.received.length).toBeGreaterThanOrEqual(10);
      expect(recorded.lines.filter((l) => l.startsWith('error the SMTP relay'))).toHaveLength(1);
    });
  },
);
