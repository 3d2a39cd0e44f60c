import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type GymDatabase } from '../../src/db/database.js';
import { runDemo, type DemoResult } from '../../src/demo/run-demo.js';
import { runGym } from '../helpers/cli.js';

describe('the demo: twelve weeks of the example cohort', () => {
  let result: DemoResult;
  let database: GymDatabase;
  const dir = join(mkdtempSync(join(tmpdir(), 'gym-demo-')), 'demo');

  beforeAll(async () => {
    result = await runDemo({ dir });
    database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
  });
  afterAll(() => database?.close());

  const eventCounts = async () =>
    Object.fromEntries(
      (
        await database.db
          .selectFrom('progress_events')
          .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('kind')
          .execute()
      ).map((r) => [r.kind, Number(r.n)]),
    );

  it('turns every simulated reply into the progress event it meant, and robots into none', async () => {
    const { replies } = result;
    expect(replies).toEqual({
      done: 65,
      reflection: 15,
      rating: 5,
      pause: 1,
      too_hard: 1,
      stop: 1,
      rsvp: 13,
      auto_reply: 1,
      manager: 1,
    });
    expect(await eventCounts()).toEqual({
      done: replies.done,
      reflection: replies.reflection,
      rating: replies.rating,
      pause: replies.pause,
      too_hard: replies.too_hard,
      stop: replies.stop,
      rsvp: replies.rsvp,
    });
    const manager = await database.db.selectFrom('manager_replies').select(['action']).execute();
    expect(manager).toEqual([{ action: 'talked' }]);
    const inbound = await database.db
      .selectFrom('inbound_messages')
      .select(['classification', 'status'])
      .execute();
    const total = Object.values(replies).reduce((a, b) => a + b, 0);
    expect(inbound).toHaveLength(total);
    expect(inbound.filter((m) => m.status !== 'processed')).toEqual([]);
  });

  it('keeps every email, invite, acknowledgement and digest as an .eml in the outbox', async () => {
    const files = readdirSync(result.outbox);
    const { sent } = result;
    expect(files).toHaveLength(Object.values(sent).reduce((a, b) => a + b, 0));
    // Each human reply is acknowledged in its thread; robots and calendars are not answered.
    const human = Object.entries(result.replies)
      .filter(([kind]) => !['auto_reply', 'rsvp', 'manager'].includes(kind))
      .reduce((n, [, count]) => n + count, 0);
    expect(sent.acknowledgement).toBe(human);
    // Gareth stopped in week 3: his week 3 invite was withdrawn. Siobhán's pause moved one.
    expect(sent['invite cancel']).toBe(1);
    expect(sent['invite update']).toBe(1);
    // 3 managers, one digest a fortnight while their people are on a programme.
    expect(sent.digest).toBe(21);
    const learnerMail = await database.db
      .selectFrom('deliveries')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'sent')
      .groupBy('kind')
      .execute();
    expect(Object.fromEntries(learnerMail.map((r) => [r.kind, Number(r.n)]))).toEqual({
      email: sent.email,
      invite: sent.invite + sent['invite update'] + sent['invite cancel'],
      acknowledgement: sent.acknowledgement,
    });
  });

  it('ends with a report whose numbers are the simulated replies', () => {
    const { totals } = result.report;
    expect(totals.learners).toBe(8);
    expect(totals.done).toBe(result.replies.done);
    expect(result.report.managers.find((m) => m.name === 'Helen Walsh')?.replies).toBe(1);
  });

  it('refuses to wipe a folder it did not make', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gym-not-a-demo-'));
    writeFileSync(join(other, 'precious.txt'), 'keep me');
    const run = await runGym(['demo', '--dir', other]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('was not made by gym demo');
    expect(readdirSync(other)).toEqual(['precious.txt']);
  });
});
