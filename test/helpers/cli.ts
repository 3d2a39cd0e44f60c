import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

// What a clean shell would have: none of the developer's or CI's Digital Gym settings.
const gymVariables = /^(DATABASE_URL|SMTP_|IMAP_URL|GYM_|DKIM_|LOG_LEVEL)/;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `gym ARGS` as a real child process (through tsx), in the repository root. */
export function runGym(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !gymVariables.test(key)),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: root,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningGym {
  /** Resolves with the first stderr line matching `pattern` (structured logs go to stderr). */
  waitForLog(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves with the exit code and everything printed. */
  stop(signal: NodeJS.Signals): Promise<CliResult>;
}

/** Starts a long-running `gym` command (such as `gym run`) as a child process. */
export function startGym(args: readonly string[], env: Record<string, string> = {}): RunningGym {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !gymVariables.test(key)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    waitForLog: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = stderr.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            child.stderr.off('data', check);
            resolve(line);
          }
        };
        child.stderr.on('data', check);
        void exited.then(() =>
          reject(new Error(`gym exited before logging ${pattern}:\n${stderr}`)),
        );
        check();
      }),
    async stop(signal) {
      child.kill(signal);
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}
