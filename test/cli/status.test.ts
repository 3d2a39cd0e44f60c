import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedFinish } from '../../src/report/expected-finish.js';
import type { EngineStatus } from '../../src/db/status-store.js';
import { runGym } from '../helpers/cli.js';

interface StatusJson {
  workers: { worker: string; sent: number; error?: string }[];
  queue: { dueNow: number; dueNext24h: number; retrying: number; failedLast7Days: number };
  sent: { lastMinute: number; last24h: number };
  expectedFinish: { at: string | null; basis: string };
}

describe('gym status', () => {
  it('shows the queue before a wave, and what went out after it', async () => {
    const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-status-')), GYM_HTTP_PORT: '0' };
    // Enrolled on Sunday 3 January: each welcome goes on the learner's Monday morning (#14).
    const enrol = ['enrol', 'test/fixtures/cohorts/example.csv', '--clock', '2027-01-03T12:00:00Z'];
    expect((await runGym(enrol, env)).code).toBe(0);

    const before = await runGym(['status', '--json', '--clock', '2027-01-04T12:00:00Z'], env);
    expect(before.code, before.stderr).toBe(0);
    const waiting = JSON.parse(before.stdout) as StatusJson;
    // The five Monday emails and their invites are due, and the welcomes of all but Tom, whose
    // New York morning is still to come.
    expect(waiting.queue).toMatchObject({ dueNow: 17, retrying: 0, failedLast7Days: 0 });
    expect(waiting.queue.dueNext24h).toBeGreaterThan(0);
    expect(waiting.sent).toEqual({ lastMinute: 0, last24h: 0, recentPerSecond: 0 });
    expect(waiting.expectedFinish.at).toBeNull();
    expect(waiting.expectedFinish.basis).toMatch(/^unknown: nothing went out/);
    expect(waiting.workers).toEqual([]);

    const run = ['run', '--once', '--clock', '2027-01-04T12:00:00Z', '--worker', 'cron-1'];
    expect((await runGym(run, env)).code).toBe(0);
    const after = JSON.parse(
      (await runGym(['status', '--json', '--clock', '2027-01-04T12:00:30Z'], env)).stdout,
    ) as StatusJson;
    expect(after.queue.dueNow).toBe(0);
    // Seventeen learner messages, and the three managers' introductions and digests.
    expect(after.sent).toMatchObject({ lastMinute: 23, last24h: 23 });
    expect(after.expectedFinish.basis).toBe('nothing is waiting');
    // Each worker's last tick: this one sent the seventeen learner messages.
    expect(after.workers).toMatchObject([{ worker: 'cron-1', sent: 17 }]);

    const table = await runGym(['status', '--clock', '2027-01-04T12:00:30Z'], env);
    expect(table.stdout).toMatch(/^queue +0 due now/m);
    expect(table.stdout).toMatch(/^sent +23 in the last minute, 23 in the last 24 h/m);
    expect(table.stdout).toMatch(/^worker +cron-1: last tick \S+, sent 17$/m);

    // The report says the same about the outbox, on its last line.
    const report = await runGym(['report'], env);
    expect(report.stdout.trimEnd().split('\n').at(-1)).toBe('Sending: nothing is waiting');
    const json = JSON.parse((await runGym(['report', '--json'], env)).stdout) as {
      sending: { dueNow: number };
    };
    expect(json.sending.dueNow).toBe(0);
  });
});

describe('expectedFinish', () => {
  const status = (dueNow: number, recentPerSecond: number): EngineStatus => ({
    at: new Date('2027-01-04T09:00:00Z'),
    queue: {
      dueNow,
      dueNext24h: 0,
      retrying: 0,
      retryReasons: [],
      failedLast7Days: 0,
      failedReasons: [],
      claimed: 0,
    },
    sent: { lastMinute: 0, last24h: 0, recentPerSecond },
    workers: [],
    mailboxes: [],
    replies: { lastReadAt: undefined, waitingForYou: 0 },
  });

  it('uses the cap, or the recent rate when it is slower', () => {
    expect(expectedFinish(status(600, 0), { perSecond: 2 })).toEqual({
      at: new Date('2027-01-04T09:05:00Z'),
      basis: 'at SMTP_MAX_PER_SECOND=2',
    });
    expect(expectedFinish(status(600, 1), { perSecond: 2 }).at).toEqual(
      new Date('2027-01-04T09:10:00Z'),
    );
    expect(expectedFinish(status(600, 4), {}).at).toEqual(new Date('2027-01-04T09:02:30Z'));
    // Microsoft 365: 30 a minute.
    expect(expectedFinish(status(600, 0), { perSecond: 10, perMinute: 30 })).toEqual({
      at: new Date('2027-01-04T09:20:00Z'),
      basis: 'at SMTP_MAX_PER_MINUTE=30',
    });
  });

  it('carries a wave bigger than the day quota over the following days', () => {
    // 5,000 waiting, 2,000 a day, nothing sent yet: 2,000 now, 2,000 tomorrow, 1,000 the day after.
    const finish = expectedFinish(status(5000, 0), { perMinute: 60, perDay: 2000 });
    expect(finish.at).toEqual(new Date('2027-01-06T09:16:40Z'));
    expect(finish.basis).toBe(
      'at SMTP_MAX_PER_MINUTE=60; over SMTP_MAX_PER_DAY=2000: 2000 now, the rest over 2 more days',
    );
  });

  it('says when it cannot know', () => {
    expect(expectedFinish(status(600, 0), {}).at).toBeUndefined();
    expect(expectedFinish(status(0, 0), {}).basis).toBe('nothing is waiting');
  });
});
