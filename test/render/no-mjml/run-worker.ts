import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from '../../helpers/cohort.js';

/**
 * Runs ./worker.ts in a process of its own where MJML cannot be loaded, on the PGlite database
 * and Maildir outbox in `dir`, with one tick at each instant of `now` (comma-separated). Answers
 * its output, also when it failed.
 */
export function runWorkerWithoutMjml(
  dir: string,
  now: string,
): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/render/no-mjml/register.js',
      'test/render/no-mjml/worker.ts',
    ],
    {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        GYM_TEST_DB: join(dir, 'db'),
        GYM_TEST_OUTBOX: join(dir, 'outbox'),
        GYM_TEST_NOW: now,
      },
    },
  ).catch((error: { stdout: string; stderr: string }) => error);
}
