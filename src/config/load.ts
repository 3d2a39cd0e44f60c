import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { GymError } from '../errors.js';
import { describeConfigProblem, parseConfig, type Config, type Environment } from './config.js';

/**
 * Reads the configuration once: `.env` in the working directory if present, with real
 * environment variables taking precedence (12-factor). Throws a user error naming the first
 * bad variable; the CLI prints it as one line and exits 1.
 */
export function loadConfig(env: Environment = process.env, envFile = '.env'): Config {
  const fromFile = existsSync(envFile) ? parseEnvFile(envFile) : {};
  const result = parseConfig({ ...fromFile, ...env });
  if (result.ok) return result.config;
  const [first, ...rest] = result.problems;
  const more =
    rest.length > 0 ? ` (and ${rest.length} more: ${rest.map((p) => p.variable).join(', ')})` : '';
  throw new GymError('CONFIG_INVALID', `${describeConfigProblem(first!)}${more}`, {
    problems: result.problems,
  });
}

function parseEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (cause) {
    throw new GymError(
      'CONFIG_INVALID',
      `${path}: cannot be read as KEY=value lines`,
      { path },
      { cause },
    );
  }
}
