import { storedLayouts } from '../../db/compiled-layouts.js';
import { storedProgrammes } from '../../db/compiled-programmes.js';
import { Command } from 'commander';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { digestStore } from '../../db/digest-store.js';
import { dispatchStore } from '../../db/dispatch-store.js';
import { hasCaps, sendBudget, sendCapsOf } from '../../db/send-budget.js';
import { migrateToLatest } from '../../db/migrate.js';
import { gymServerStore } from '../../db/unsubscribe-store.js';
import type { DispatchDependencies } from '../../engine/dispatch.js';
import {
  drainDue,
  noteTick,
  type DueClock,
  sendDueDigests,
  startDispatcher,
} from '../../engine/dispatcher-loop.js';
import { faultReporter, healthBoard, relayVerdict, relayWatch } from '../../engine/health.js';
import { GymError } from '../../errors.js';
import { startGymServer } from '../../http/gym-server.js';
import { backoff } from '../../mail/backoff.js';
import { createMailTransport } from '../../mail/create-transport.js';
import { watchedTransport } from '../../mail/watched-transport.js';
import { dailyRetention } from '../../db/retention.js';
import { trainerAlertStore } from '../../db/trainer-alert-store.js';
import { trainerAlertTick } from '../../engine/trainer-alerts.js';
import { createLogger } from '../logger.js';
import { stopRequests } from '../stop-requests.js';
import { startReplyListener } from '../reply-listener.js';

/** A clock that starts at `start` and runs at real speed: for trials and demos on future dates. */
function clockFrom(start: string | undefined): () => Date {
  if (start === undefined) return () => new Date();
  const at = Date.parse(start);
  if (Number.isNaN(at))
    throw new GymError(
      'USAGE',
      `--clock ${start}: expected an ISO date and time, such as 2027-01-04T09:00:00Z`,
    );
  const offset = at - Date.now();
  return () => new Date(Date.now() + offset);
}

export function runCommand(getConfig: () => Config): Command {
  return new Command('run')
    .description(
      'run the engine: every few seconds, send the emails and invites that are due, exactly once,\n' +
        'with any number of workers sharing one PostgreSQL; read learners’ replies from IMAP_URL (one\n' +
        'worker holds the mailbox) or the Maildir .gym/inbox; and serve one-click unsubscribe and\n' +
        '/healthz on GYM_HTTP_HOST:GYM_HTTP_PORT (127.0.0.1:8080). SIGTERM finishes the messages in flight, then exits',
    )
    .option('--once', 'send what is due now, then exit (for a system cron or a CI job)')
    .option('--clock <iso>', 'start the clock at this instant (trials and demos on future dates)')
    .option(
      '--worker <name>',
      'this worker’s name in leases and logs',
      `${hostname()}:${process.pid}`,
    )
    .action(async (options: { once?: boolean; clock?: string; worker: string }) => {
      const config = getConfig();
      const now = clockFrom(options.clock);
      // What is due: on the real clock, PostgreSQL's, which every worker shares; a worker's own
      // clock may be a second or a minute off. A trial's `--clock` decides for itself.
      const dueClock: DueClock = options.clock === undefined ? 'database' : now;
      // Listen from the start: a SIGTERM while starting up still ends in a clean stop.
      const stop = stopRequests();
      const log = createLogger(config.logLevel, 'gym-run');
      const database = await createDatabase(databaseConfigFor(config));
      const watched = watchedTransport(createMailTransport(config));
      const { transport } = watched;
      const caps = sendCapsOf(config);
      const deps: DispatchDependencies = {
        store: dispatchStore(database.db),
        transport,
        mail: {
          secret: config.secret,
          from: config.from,
          replyAddress: config.replyAddress,
          publicUrl: config.publicUrl,
        },
        workerId: options.worker,
        retryDelay: (attempt) => backoff(attempt, { random: Math.random }),
        // With a relay, always a budget: it also carries the pause a relay asks for ("too many").
        ...(config.smtpUrl === undefined && !hasCaps(caps)
          ? {}
          : {
              budget: sendBudget(database.db, caps),
              // On the database's clock, the instant is PostgreSQL's: the process's own clock is
              // near enough to wait for the next second by.
              waitUntil: (instant: Date) => sleep(Math.max(0, instant.getTime() - now().getTime())),
            }),
        // Soft: a layout warning must not stop a worker; the tests validate layouts strictly.
        // Read compiled from the database (stored at enrol or migrate): no MJML in a worker.
        compiled: storedProgrammes(database.db, { validation: 'soft' }),
        // The same for acknowledgements and digests: read stored, compiled only by the first.
        layouts: storedLayouts(database.db, { validation: 'soft' }),
        digests: digestStore(database.db),
      };
      // Once a day across all workers, cheap otherwise: retention, then the trainer's alert.
      const alerts = trainerAlertStore(database.db);
      const housekeeping = async () => {
        const cleared = await dailyRetention(database.db, {
          retainDays: config.retainRawDays,
          // The real clock, not --clock: what it compares was stamped by the real one (the
          // database's now() on stored mail, the file system's on outbox files).
          now: new Date(),
          outboxDir: config.smtpUrl === undefined ? join(config.dataDir, 'outbox') : undefined,
          inboxDir: config.imapUrl === undefined ? join(config.dataDir, 'inbox') : undefined,
        });
        if (cleared !== undefined)
          log.info({ ...cleared }, 'retention: cleared raw mail older than the limit');
        if (config.trainerAddress === undefined) return;
        const alert = await trainerAlertTick(
          deps,
          alerts,
          { to: config.trainerAddress, zone: config.trainerTimeZone },
          now(),
        );
        if (alert !== undefined) log.info({ alert, to: config.trainerAddress }, 'trainer alert');
      };
      try {
        await migrateToLatest(database.db);
        if (options.once) {
          // Replies first: their acknowledgements and changes of plan go out in the same run.
          const replies = await startReplyListener({ config, database, now, log, listen: false });
          try {
            const read = await replies.poll();
            // Ctrl+C during a long drain: the messages in hand finish, nothing more is claimed.
            const counts = await drainDue(deps, dueClock, stop.isRequested);
            await noteTick(deps, { sent: counts.sent });
            const digests = await sendDueDigests(deps, dueClock);
            await housekeeping();
            const relay = relayVerdict(watched.takeTally(), transport.name);
            // The rows keep their reasons and are retried; the operator gets one line and exit 1.
            if (typeof relay === 'object')
              throw new GymError(
                'RELAY_REFUSED',
                `${relay.fault}; nothing was sent. Check SMTP_URL and the relay, then run again (the messages wait and are retried)`,
                { transport: transport.name },
              );
            log.info(
              {
                ...counts,
                digests,
                replies: read,
                transport: transport.name,
                inbox: replies.where,
              },
              'read the replies waiting and sent what was due',
            );
          } finally {
            await replies.stop();
          }
          return;
        }
        const board = healthBoard();
        const faults = faultReporter(board, log);
        const http = await startGymServer({
          store: gymServerStore(database.db),
          secret: config.secret,
          host: config.httpHost,
          port: config.httpPort,
          now,
          log,
          health: () => board.faults(),
        });
        const loop = startDispatcher(deps, {
          now: dueClock,
          log,
          afterTick: relayWatch(watched.takeTally, transport.name, faults, now),
          alsoEachTick: housekeeping,
        });
        const replies = await startReplyListener({
          config,
          database,
          now,
          log,
          listen: true,
          onMailboxStatus: (problem) =>
            problem === undefined
              ? faults.working('mailbox')
              : faults.failing('mailbox', problem, now()),
        });
        log.info(
          {
            worker: options.worker,
            database: database.location,
            transport: transport.name,
            inbox: replies.where,
            http: http.url,
          },
          'dispatcher started',
        );
        const reason = await stop.requested;
        log.info({ reason }, 'stopping: finishing the messages in flight');
        await Promise.all([loop.stop(), http.close(), replies.stop()]);
        log.info({}, 'stopped');
      } finally {
        stop.dispose();
        await transport.close();
        await database.close();
      }
    });
}
