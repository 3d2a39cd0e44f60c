import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { openMigrated, testBackends } from '../helpers/backends.js';
import { startGym, type RunningGym } from '../helpers/cli.js';
import { startDovecot } from '../helpers/dovecot.js';
import { missingServers } from '../helpers/servers.js';
import { answered, replyTo } from '../inbound/reply-builder.js';
import { clockStart, programmeSteps, secret, seedWave, startSink, waitUntil } from './helpers.js';

/*
 * 1,000 learners answer their week 1 email "done" at once, and the real `gym run` reads the
 * replies from a real Dovecot over IMAP while its connection is killed (doveadm kick) again and
 * again. Each reply is one inbound message and one progress event, however often it is read.
 */

const replies = 1_000;
const kickEveryMs = 1_500;
const from = 'Digital Gym <gym@gym.example.gov.uk>';
const replyAddress = 'progress@gym.example.gov.uk';

const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || missingServers(['dovecot']).length > 0)(
  'Dovecot connections killed during a burst of replies',
  () => {
    it('1,000 replies through gym run: none lost, none counted twice', async () => {
      const started = Date.now();
      const database = await openMigrated(postgres!);
      const sink = await startSink({ keep: true });
      const dovecot = await startDovecot();
      const dataDir = await mkdtemp(join(tmpdir(), 'gym-faults-imap-'));
      let gym: RunningGym | undefined;
      try {
        // Week 1's assignment email to each of 1,000 learners, sent by the real dispatcher.
        const kickoff = programmeSteps.find((s) => s.key === 'w01-kickoff')!;
        await seedWave(database.db, replies, [kickoff]);
        const transport = createSmtpTransport({ url: sink.url });
        const sent = await drainDue(
          {
            store: dispatchStore(database.db),
            transport,
            mail: { secret, from, replyAddress, publicUrl: undefined },
            workerId: 'sender',
            retryDelay: () => 60_000,
            compiled: programmeCache({ validation: 'soft' }),
          },
          () => new Date(clockStart),
        );
        await transport.close();
        expect(sent.sent).toBe(replies);
        // Each learner's mail client answers it: to our signed Reply-To, in the thread.
        const raws = await Promise.all(
          sink.kept.map(async (raw) =>
            replyTo(await answered(raw), 'Done, posted our first update this morning.', {
              date: new Date('2027-03-01T09:30:00Z'),
            }),
          ),
        );
        sink.kept.length = 0;

        gym = startGym(['run', '--clock', '2027-03-01T09:31:00Z', '--worker', 'reader'], {
          DATABASE_URL: database.url!,
          SMTP_URL: sink.url,
          IMAP_URL: dovecot.url,
          GYM_SECRET: secret,
          GYM_FROM: from,
          GYM_REPLY_ADDRESS: replyAddress,
          GYM_DATA_DIR: dataDir,
          GYM_HTTP_PORT: '0',
        });
        await gym.waitForLog(/"msg":"this worker reads the mailbox"/);

        const burstStarted = Date.now();
        let kicking = true;
        let kicks = 0;
        let kicksThatHit = 0;
        const kicker = (async () => {
          while (kicking) {
            await sleep(kickEveryMs);
            if (!kicking) break;
            kicks += 1;
            if (await dovecot.kick()) kicksThatHit += 1;
          }
        })();
        const inboundCount = async () =>
          Number(
            (
              await database.db
                .selectFrom('inbound_messages')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          );
        try {
          await dovecot.deliverAll(raws, 8);
          await waitUntil(
            'every reply is read and filed',
            async () => (await inboundCount()) >= replies && (await dovecot.count('INBOX')) === 0,
            { timeoutMs: 600_000, intervalMs: 500 },
          );
        } finally {
          kicking = false;
          await kicker;
        }
        const burstSeconds = (Date.now() - burstStarted) / 1000;
        // Quiet for a moment: a late second reading would show now.
        await sleep(3_000);
        const stopped = await gym.stop('SIGTERM');
        gym = undefined;

        const count = async (table: 'inbound_messages' | 'progress_events', kind?: string) => {
          let query = database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'));
          if (kind !== undefined && table === 'progress_events')
            query = query.where('kind', '=', kind as 'done');
          return Number((await query.executeTakeFirstOrThrow()).n);
        };
        const inbound = await count('inbound_messages');
        const processed = Number(
          (
            await database.db
              .selectFrom('inbound_messages')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('status', '=', 'processed')
              .executeTakeFirstOrThrow()
          ).n,
        );
        const events = await count('progress_events');
        const doneEvents = await count('progress_events', 'done');
        const perEnrolment = await database.db
          .selectFrom('progress_events')
          .select(['enrolment_id', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('enrolment_id')
          .having((eb) => eb.fn.countAll(), '>', 1)
          .execute();
        const acks = Number(
          (
            await database.db
              .selectFrom('deliveries')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('kind', '=', 'acknowledgement')
              .executeTakeFirstOrThrow()
          ).n,
        );
        const filed = await dovecot.messageIds('Processed');
        const distinctFiled = new Set(filed).size;
        const connections = (stopped.stderr.match(/"msg":"IMAP connected/g) ?? []).length;
        const lostConnections = (stopped.stderr.match(/"msg":"IMAP connection lost"/g) ?? [])
          .length;

        // eslint-disable-next-line no-console
        console.log(
          `[faults] ${replies} replies through gym run with Dovecot kicked every ${kickEveryMs} ms: ` +
            `inbound_messages ${inbound} (processed ${processed}), progress events ${events} ` +
            `(done ${doneEvents}, enrolments with more than one ${perEnrolment.length}), ` +
            `acknowledgements queued ${acks}; kicks ${kicks} (${kicksThatHit} hit a session), ` +
            `connections lost ${lostConnections}, IMAP connections logged ${connections}; ` +
            `Processed folder ${filed.length} (distinct ${distinctFiled}, filed twice ` +
            `${filed.length - distinctFiled}), INBOX ${await dovecot.count('INBOX')}, Failed ` +
            `${await dovecot.count('Failed')}; burst ${burstSeconds.toFixed(0)} s, ` +
            `${Math.round((Date.now() - started) / 1000)} s`,
        );

        expect(stopped.code).toBe(0);
        expect(kicksThatHit).toBeGreaterThan(0);
        expect(inbound).toBe(replies);
        expect(processed).toBe(replies);
        expect(events).toBe(replies);
        expect(doneEvents).toBe(replies);
        expect(perEnrolment).toEqual([]);
        expect(acks).toBe(replies);
        expect(distinctFiled).toBe(replies);
        expect(await dovecot.count('INBOX')).toBe(0);
        expect(await dovecot.count('Failed')).toBe(0);
      } finally {
        await gym?.stop('SIGKILL').catch(() => undefined);
        await dovecot.stop();
        await sink.close();
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  },
);
