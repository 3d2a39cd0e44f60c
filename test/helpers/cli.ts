import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const shipped = fileURLToPath(new URL('../../bin/gym.js', import.meta.url));

// What a clean shell would have: none of the developer's or CI's Digital Gym settings.
const gymVariables =
  /^(DATABASE_URL|SMTP_|IMAP_URL|GYM_|DKIM_|LOG_LEVEL|OAUTH2_|GOOGLE_SERVICE_ACCOUNT_FILE)/;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `gym ARGS` as a real child process, in the repository root, collecting its output: through
 * tsx, or `built`, as shipped (bin/gym.js on dist/, which buildGym makes).
 */
function spawnGym(args: readonly string[], env: Record<string, string>, built = false) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !gymVariables.test(key)),
  );
  const entry = built ? [shipped] : ['--import', 'tsx', main];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...output }));
  });
  return { child, output, exited };
}

/**
 * Compiles dist/ as `npm install` does, for runBuiltGym. For what only the shipped form can show:
 * tsx holds about 65 MB more than the compiled CLI, which memory limits must not count.
 */
export async function buildGym(): Promise<void> {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
}

/** Runs the shipped `gym ARGS` (after buildGym) to the end. */
export function runBuiltGym(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return spawnGym(args, env, true).exited;
}

/** Runs `gym ARGS` to the end. */
export function runGym(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return spawnGym(args, env).exited;
}

export interface RunningGym {
  /** Resolves with the first stderr line matching `pattern` (structured logs go to stderr). */
  waitForLog(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves with the exit code and everything printed. */
  stop(signal: NodeJS.Signals): Promise<CliResult>;
}

/** Starts a long-running `gym` command (such as `gym run`) as a child process. */
export function startGym(args: readonly string[], env: Record<string, string> = {}): RunningGym {
  const { child, output, exited } = spawnGym(args, env);
  return {
    waitForLog: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = output.stderr.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            child.stderr.off('data', check);
            resolve(line);
          }
        };
        child.stderr.on('data', check);
        void exited.then(() =>
          reject(new Error(`gym exited before logging ${pattern}:\n${output.stderr}`)),
        );
        check();
      }),
    stop(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
