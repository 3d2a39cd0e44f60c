import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfigProblem, parseConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load.js';

const secret = 'x'.repeat(32);

function problems(env: Record<string, string>): string[] {
  const result = parseConfig(env);
  return result.ok ? [] : result.problems.map(describeConfigProblem);
}

describe('configuration', () => {
  it('runs on embedded defaults with nothing set', () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      databaseUrl: undefined,
      dataDir: '.gym',
      smtpUrl: undefined,
      imapUrl: undefined,
      replyAddress: 'progress@localhost',
      secretIsBuiltIn: true,
      httpPort: 8080,
      logLevel: 'info',
    });
    expect(Object.isFrozen(result.config)).toBe(true);
  });

  it('names the variable, what it expects and what it got', () => {
    expect(problems({ DATABASE_URL: 'nonsense', GYM_SECRET: secret })).toMatchInlineSnapshot(`
      [
        "DATABASE_URL: expected a PostgreSQL URL such as postgres://user:password@host:5432/database (got "nonsense")",
      ]
    `);
    expect(problems({ SMTP_MAX_PER_SECOND: '-3', GYM_HTTP_PORT: '70000', LOG_LEVEL: 'loud' }))
      .toMatchInlineSnapshot(`
      [
        "SMTP_MAX_PER_SECOND: expected a positive number of messages per second, such as 10 (got "-3")",
        "GYM_HTTP_PORT: expected a TCP port number from 0 to 65535 (got "70000")",
        "LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent (got "loud")",
      ]
    `);
  });

  it('never echoes a secret or a password', () => {
    const lines = problems({
      GYM_SECRET: 'short-secret',
      SMTP_URL: 'http://user:hunter2@relay',
    }).join('\n');
    expect(lines).not.toContain('short-secret');
    expect(lines).not.toContain('hunter2');
    expect(lines).toContain('GYM_SECRET: expected at least 32 characters');
  });

  it('requires GYM_SECRET once any real server is configured', () => {
    expect(problems({ SMTP_URL: 'smtp://relay.example.org:587' })).toEqual([
      'GYM_SECRET: required when DATABASE_URL, SMTP_URL or IMAP_URL is set: at least 32 characters of random text (for example: openssl rand -hex 32)',
    ]);
    expect(problems({ SMTP_URL: 'smtp://relay.example.org:587', GYM_SECRET: secret })).toEqual([]);
  });

  it('wants a bare reply address, since tokens are added as +token', () => {
    expect(problems({ GYM_REPLY_ADDRESS: 'progress+x@example.org' })[0]).toMatch(
      /^GYM_REPLY_ADDRESS: expected a bare address/,
    );
  });

  it('takes DKIM settings together or not at all', () => {
    expect(problems({ DKIM_DOMAIN: 'example.org' })[0]).toMatch(
      /^DKIM_SELECTOR: expected DKIM_DOMAIN, DKIM_SELECTOR and/,
    );
  });

  it('reads .env, with the real environment taking precedence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-env-'));
    const envFile = join(dir, '.env');
    writeFileSync(envFile, 'GYM_DATA_DIR=/srv/gym\nLOG_LEVEL=debug\n# a comment\n');
    const config = loadConfig({ LOG_LEVEL: 'warn' }, envFile);
    expect(config.dataDir).toBe('/srv/gym');
    expect(config.logLevel).toBe('warn');
  });

  it('reports every bad variable in one line', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: 'nonsense', LOG_LEVEL: 'loud' }, '/nonexistent/.env'),
    ).toThrowErrorMatchingInlineSnapshot(
      `[GymError: DATABASE_URL: expected a PostgreSQL URL such as postgres://user:password@host:5432/database (got "nonsense") (and 2 more: GYM_SECRET, LOG_LEVEL)]`,
    );
  });
});
