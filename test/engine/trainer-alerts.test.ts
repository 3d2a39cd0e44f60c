import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { trainerAlertStore } from '../../src/db/trainer-alert-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { alertDay, trainerAlertTick } from '../../src/engine/trainer-alerts.js';
import { createMaildirTransport } from '../../src/mail/maildir-transport.js';
import { readMessage } from '../../src/replies/read.js';
import { programmeCache } from '../../src/render/index.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo } from '../inbound/reply-builder.js';

const trainer = { to: 'trainer@gym.example.gov.uk', zone: 'Europe/London' };
const aisha = 'aisha.khan@businessandtrade.gov.uk';
const monday = new Date('2027-01-04T09:05:00Z');

describe('the trainer alert’s day', () => {
  it('is a working day from 08:00 on the trainer’s clock', () => {
    expect(alertDay(new Date('2027-01-05T07:59:00Z'), 'Europe/London')).toBeUndefined();
    expect(alertDay(new Date('2027-01-05T08:00:00Z'), 'Europe/London')).toBe('2027-01-05');
    // 08:00 in Sydney is the evening before in London.
    expect(alertDay(new Date('2027-01-04T21:00:00Z'), 'Australia/Sydney')).toBe('2027-01-05');
    expect(alertDay(new Date('2027-01-09T12:00:00Z'), 'Europe/London')).toBeUndefined();
  });
});

describe.each(testBackends())('the daily trainer alert on $name', (backend) => {
  let database: TestDatabase;
  let dispatch: DispatchDependencies;
  let replies: ReplyDependencies;
  const outbox = mkdtempSync(join(tmpdir(), 'gym-alert-'));
  const worker = (workerId: string): DispatchDependencies => ({ ...dispatch, workerId });
  /** The alerts in the outbox, as the trainer's mail client shows them. */
  const alertsSent = async () => {
    const alerts = [];
    for (const name of readdirSync(join(outbox, 'new'))) {
      const mail = await answered(readFileSync(join(outbox, 'new', name)));
      if (mail.to === trainer.to) alerts.push(`Subject: ${mail.subject}\n${mail.text}`);
    }
    return alerts;
  };
  const reply = async (text: string, id: string, at: Date, to?: string) => {
    const kickoff = readdirSync(join(outbox, 'new'))
      .map((name) => readFileSync(join(outbox, 'new', name)))
      .find((raw) => raw.includes(`<${aisha}>`) && raw.includes('Subject: Week 1'));
    const raw = await replyTo(await answered(kickoff!), text, {
      messageId: `<${id}@mail.example.test>`,
      date: at,
      ...(to === undefined ? {} : { to }),
    });
    await handleInbound({ ...replies, now: () => at }, { raw, mailbox: 'INBOX', uid: undefined });
  };

  beforeAll(async () => {
    database = await openMigrated(backend);
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
    });
    dispatch = {
      store: dispatchStore(database.db),
      transport: createMaildirTransport({ dir: outbox }),
      mail: testMail,
      workerId: 'worker-a',
      retryDelay: () => 60_000,
      compiled: programmeCache({ validation: 'soft' }),
    };
    replies = {
      store: replyStore(database.db),
      read: readMessage,
      secret: testMail.secret,
      replyAddress: testMail.replyAddress,
      now: () => monday,
    };
    await drainDue(dispatch, () => monday);
  });
  afterAll(async () => {
    await dispatch?.transport.close();
    await database?.close();
  });

  it('sends nothing when there is nothing to tell', async () => {
    const tuesday = new Date('2027-01-05T08:30:00Z');
    expect(await trainerAlertTick(dispatch, trainerAlertStore(database.db), trainer, tuesday)).toBe(
      'skipped',
    );
    expect(await alertsSent()).toEqual([]);
  });

  it('tells the trainer who said too hard, in their words, once a day whatever the workers', async () => {
    await reply(
      'This is too hard, I cannot get past the login screen at work.',
      'aisha-too-hard',
      new Date('2027-01-05T11:00:00Z'),
    );
    const wednesday = new Date('2027-01-06T08:00:00Z');
    const store = trainerAlertStore(database.db);
    // Three workers tick at once on Wednesday morning: one alert.
    const outcomes = await Promise.all(
      ['worker-a', 'worker-b', 'worker-c'].map((w) =>
        trainerAlertTick(worker(w), store, trainer, wednesday),
      ),
    );
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'sent')).toEqual([undefined, undefined]);
    // Later the same day: still one.
    expect(
      await trainerAlertTick(dispatch, store, trainer, new Date('2027-01-06T15:00:00Z')),
    ).toBeUndefined();
    const sent = await alertsSent();
    expect(sent).toHaveLength(1);
    const text = sent[0]!;
    expect(text).toMatch(/^Subject: Digital Gym, 2027-01-06: 1 need you$/m);
    expect(text).toContain(
      `- Aisha Khan <${aisha}>, digital-engagement-for-policy week 1: said it is too hard (Tue 5 Jan 11:00)`,
    );
    expect(text).toContain('> This is too hard, I cannot get past the login screen at work.');
    expect(text).toContain(`gym learner show ${aisha}`);
    expect(text).not.toContain('Mail held for you');
  });

  it('covers each event once, and held mail while it waits', async () => {
    // A "stop" without the learner's token is held for the trainer.
    await reply('stop', 'aisha-held', new Date('2027-01-06T16:00:00Z'), testMail.replyAddress);
    const thursday = new Date('2027-01-07T08:10:00Z');
    expect(
      await trainerAlertTick(dispatch, trainerAlertStore(database.db), trainer, thursday),
    ).toBe('sent');
    const text = (await alertsSent()).find((t) => t.includes('2027-01-07'))!;
    expect(text).toMatch(/^Subject: Digital Gym, 2027-01-07: 1 held$/m);
    expect(text).toContain('Mail held for you: 1 (run gym inbox)');
    // Tuesday's "too hard" was in Wednesday's alert: not again.
    expect(text).not.toContain('login screen');
    // No work at the weekend.
    expect(
      await trainerAlertTick(
        dispatch,
        trainerAlertStore(database.db),
        trainer,
        new Date('2027-01-09T10:00:00Z'),
      ),
    ).toBeUndefined();
    expect(await alertsSent()).toHaveLength(2);
  });
});
