import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedFinish } from '../../src/cli/commands/status.js';
import type { EngineStatus } from '../../src/db/status-store.js';
import { runGym } from '../helpers/cli.js';

interface StatusJson {
  queue: { dueNow: number; dueNext24h: number; retrying: number; failedLast7Days: number };
  sent: { lastMinute: number; last24h: number };
  expectedFinish: { at: string | null; basis: string };
}

describe('gym status', () => {
  it('shows the queue before a wave, and what went out after it', async () => {
    const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-status-')), GYM_HTTP_PORT: '0' };
    expect((await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], env)).code).toBe(0);

    const before = await runGym(['status', '--json', '--clock', '2027-01-04T12:00:00Z'], env);
    expect(before.code, before.stderr).toBe(0);
    const waiting = JSON.parse(before.stdout) as StatusJson;
    // The five Monday emails and their invites are due; two learners further east are tomorrow's.
    expect(waiting.queue).toMatchObject({ dueNow: 10, retrying: 0, failedLast7Days: 0 });
    expect(waiting.queue.dueNext24h).toBeGreaterThan(0);
    expect(waiting.sent).toEqual({ lastMinute: 0, last24h: 0, recentPerSecond: 0 });
    expect(waiting.expectedFinish.at).toBeNull();
    expect(waiting.expectedFinish.basis).toMatch(/^unknown: nothing went out/);

    expect((await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env)).code).toBe(0);
    const after = JSON.parse(
      (await runGym(['status', '--json', '--clock', '2027-01-04T12:00:30Z'], env)).stdout,
    ) as StatusJson;
    expect(after.queue.dueNow).toBe(0);
    // Ten learner messages and the three managers' digests.
    expect(after.sent).toMatchObject({ lastMinute: 13, last24h: 13 });
    expect(after.expectedFinish.basis).toBe('nothing is waiting');

    const table = await runGym(['status', '--clock', '2027-01-04T12:00:30Z'], env);
    expect(table.stdout).toMatch(/^queue +0 due now/m);
    expect(table.stdout).toMatch(/^sent +13 in the last minute, 13 in the last 24 h/m);
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
    mailboxes: [],
    replies: { lastReadAt: undefined, waitingForYou: 0 },
  });

  it('uses the cap, or the recent rate when it is slower', () => {
    expect(expectedFinish(status(600, 0), 2)).toEqual({
      at: new Date('2027-01-04T09:05:00Z'),
      basis: 'at SMTP_MAX_PER_SECOND=2',
    });
    expect(expectedFinish(status(600, 1), 2).at).toEqual(new Date('2027-01-04T09:10:00Z'));
    expect(expectedFinish(status(600, 4), undefined).at).toEqual(new Date('2027-01-04T09:02:30Z'));
  });

  it('says when it cannot know', () => {
    expect(expectedFinish(status(600, 0), undefined).at).toBeUndefined();
    expect(expectedFinish(status(0, 0), undefined).basis).toBe('nothing is waiting');
  });
});
