import { Command } from 'commander';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { digestStore } from '../../db/digest-store.js';
import { dispatchStore } from '../../db/dispatch-store.js';
import { hasCaps, sendBudget, type SendCaps } from '../../db/send-budget.js';
import { migrateToLatest } from '../../db/migrate.js';
import { gymServerStore } from '../../db/unsubscribe-store.js';
import type { DispatchDependencies } from '../../engine/dispatch.js';
import { drainDue, sendDueDigests, startDispatcher } from '../../engine/dispatcher-loop.js';
import { GymError } from '../../errors.js';
import { startGymServer } from '../../http/gym-server.js';
import { backoff } from '../../mail/backoff.js';
import { createMailTransport } from '../../mail/create-transport.js';
import { programmeCache } from '../../render/index.js';
import { createLogger } from '../logger.js';
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
      // Listen from the start: a SIGTERM while starting up still ends in a clean stop.
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      const log = createLogger(config.logLevel, 'gym-run');
      const database = await createDatabase(databaseConfigFor(config));
      const transport = createMailTransport(config);
      const caps: SendCaps = {
        perSecond: config.smtpMaxPerSecond,
        perMinute: config.smtpMaxPerMinute,
        perDay: config.smtpMaxPerDay,
      };
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
              waitUntil: (instant: Date) => sleep(Math.max(0, instant.getTime() - now().getTime())),
            }),
        // Soft: a layout warning must not stop a worker; the tests validate layouts strictly.
        compiled: programmeCache({ validation: 'soft' }),
        digests: digestStore(database.db),
      };
      try {
        await migrateToLatest(database.db);
        if (options.once) {
          // Replies first: their acknowledgements and changes of plan go out in the same run.
          const replies = await startReplyListener({ config, database, now, log, listen: false });
          try {
            const read = await replies.poll();
            const counts = await drainDue(deps, now);
            const digests = await sendDueDigests(deps, now);
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
        const http = await startGymServer({
          store: gymServerStore(database.db),
          secret: config.secret,
          host: config.httpHost,
          port: config.httpPort,
          now,
          log,
        });
        const loop = startDispatcher(deps, { now, log });
        const replies = await startReplyListener({ config, database, now, log, listen: true });
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
        await stopRequested;
        log.info({}, 'stopping: finishing the messages in flight');
        await Promise.all([loop.stop(), http.close(), replies.stop()]);
        log.info({}, 'stopped');
      } finally {
        await transport.close();
        await database.close();
      }
    });
}
