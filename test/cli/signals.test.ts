import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every process whose parent chain leads to `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Running (not gone, not a zombie waiting for its parent to read its status). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * `npx gym run` as an operator starts it, in its own process group (as a terminal would), with
 * the example cohort enrolled and a clock at which mail is due.
 */
async function startNpxGymRun() {
  const env: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined &&
          !/^(DATABASE_URL|SMTP_|IMAP_URL|GYM_|DKIM_|LOG_LEVEL)/.test(entry[0]),
      ),
    ),
    GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-signals-')),
    GYM_HTTP_PORT: '0',
    GYM_SECRET: randomBytes(32).toString('hex'),
    npm_config_update_notifier: 'false',
  };
  const enrolled = await runGym(['enrol', 'test/fixtures/cohorts/example.csv'], env);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  const child = spawn('npx', ['gym', 'run', '--clock', '2027-01-07T12:00:00Z'], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  // 'close' fires when every process holding the output pipes has ended: npx, the shell it runs,
  // and the worker. An orphaned worker keeps the pipe open, and this never resolves.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const started = new Promise<number>((resolve, reject) => {
    const check = () => {
      const line = stderr.split('\n').find((l) => l.includes('"msg":"dispatcher started"'));
      if (line !== undefined) resolve((JSON.parse(line) as { pid: number }).pid);
    };
    child.stderr.on('data', check);
    void closed.then(() => reject(new Error(`npx gym run ended before starting:\n${stderr}`)));
  });
  const workerPid = await started;
  return { child, workerPid, closed, stderr: () => stderr, env };
}

describe('stopping npx gym run', () => {
  it('SIGTERM to npx alone (as a supervisor sends it) stops the worker: no process is left', async () => {
    const run = await startNpxGymRun();
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    expect(tree).toContain(run.workerPid);
    run.child.kill('SIGTERM');
    await run.closed;
    expect(tree.filter(running)).toEqual([]);
    // The worker stopped itself, finishing what it had in hand, rather than being killed.
    expect(run.stderr()).toMatch(/"msg":"stopping: finishing the messages in flight"/);
    expect(run.stderr()).toMatch(/"msg":"stopped"/);
  });

  it('Ctrl+C (SIGINT to the whole foreground group) stops it the same way', async () => {
    const run = await startNpxGymRun();
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    process.kill(-run.child.pid!, 'SIGINT');
    await run.closed;
    expect(tree.filter(running)).toEqual([]);
    expect(run.stderr()).toMatch(
      /"reason":"SIGINT".*"msg":"stopping: finishing the messages in flight"/,
    );
    expect(run.stderr()).toMatch(/"msg":"stopped"/);
  });
});
