import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGym, startGym } from '../helpers/cli.js';

describe('gym run on the embedded defaults', () => {
  const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-run-')), GYM_HTTP_PORT: '0' };
  const outbox = () => readdirSync(join(env.GYM_DATA_DIR, 'outbox', 'new'));

  beforeAll(async () => {
    expect((await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], env)).code).toBe(0);
  });

  it('--once sends what is due into the Maildir outbox, and nothing twice', async () => {
    const first = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('"sent":5');
    const files = outbox();
    expect(files).toHaveLength(5);
    const message = readFileSync(join(env.GYM_DATA_DIR, 'outbox', 'new', files[0]!), 'utf8');
    expect(message).toMatch(/^Subject: Week 1: /m);

    const again = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:30Z'], env);
    expect(again.stderr).toContain('"sent":0');
    expect(outbox()).toHaveLength(5);
  });

  it('keeps sending as time passes, and stops cleanly on SIGTERM', async () => {
    const worker = startGym(['run', '--clock', '2027-01-06T15:00:00Z'], env);
    await worker.waitForLog(/"msg":"dispatched"/);
    const result = await worker.stop('SIGTERM');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"msg":"stopped"');
    expect(outbox().length).toBeGreaterThan(5);
  });
});
