import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfigProblem, parseConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load.js';

// As `openssl rand -hex 32` makes them: a weak one is refused (see below).
const secret = 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f';

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
      httpHost: '127.0.0.1',
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
        "SMTP_MAX_PER_SECOND: expected a whole number of messages per second, 1 or more, such as 10 (no fractions) (got "-3")",
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
      'GYM_SECRET: required when DATABASE_URL, SMTP_URL, IMAP_URL, GYM_PUBLIC_URL or a non-loopback GYM_HTTP_HOST is set (here: SMTP_URL), since the built-in secret is public: at least 32 characters of random text (for example: openssl rand -hex 32)',
    ]);
    expect(problems({ SMTP_URL: 'smtp://relay.example.org:587', GYM_SECRET: secret })).toEqual([]);
  });

  it('Built-in secret: refused whenever anything is exposed or connected, with one line', () => {
    for (const [env, named] of [
      [{ GYM_PUBLIC_URL: 'https://gym.example.org' }, 'GYM_PUBLIC_URL'],
      [{ GYM_HTTP_HOST: '0.0.0.0' }, 'GYM_HTTP_HOST=0.0.0.0'],
      [{ GYM_HTTP_HOST: '192.168.1.20' }, 'GYM_HTTP_HOST=192.168.1.20'],
      [{ GYM_HTTP_HOST: '::' }, 'GYM_HTTP_HOST=::'],
      [{ DATABASE_URL: 'postgres://db.example.org/gym' }, 'DATABASE_URL'],
      [{ IMAP_URL: 'imaps://u:p@imap.example.org/INBOX' }, 'IMAP_URL'],
    ] as const) {
      const lines = problems(env);
      expect(lines, JSON.stringify(env)).toHaveLength(1);
      expect(lines[0]).toMatch(/^GYM_SECRET: required when .* since the built-in secret is public/);
      expect(lines[0]).toContain(`(here: ${named})`);
      expect(problems({ ...env, GYM_SECRET: secret })).toEqual([]);
    }
    // Loopback only, nothing connected: the embedded default keeps working without a secret.
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      expect(problems({ GYM_HTTP_HOST: host })).toEqual([]);
  });

  it('Weak secrets: too short, repeated, low entropy or the published default are refused, never shown', () => {
    const builtIn = 'digital-gym-embedded-default-secret-not-for-production';
    for (const [weak, why] of [
      ['short-secret', 'shorter than 32 characters'],
      ['x'.repeat(64), 'one short run of characters repeated'],
      ['c0ffee'.repeat(8), 'one short run of characters repeated'],
      ['ab'.repeat(10) + 'abababababababababab' + 'ba', 'too few different characters (2)'],
      ['a'.repeat(40) + 'bcdefghijk', 'too uneven to be random'],
      [builtIn, 'the built-in secret, which is published'],
    ] as const) {
      const lines = problems({ GYM_SECRET: weak, SMTP_URL: 'smtp://relay.example.org' });
      expect(lines, weak).toHaveLength(1);
      expect(lines[0]).toContain(why);
      expect(lines[0]).not.toContain(weak);
    }
  });

  it('SMTP_MAX_PER_SECOND: a fractional rate is refused at start with one line', () => {
    for (const rate of ['0.5', '1.5', '0', '1e1', ' 2.0'])
      expect(problems({ SMTP_MAX_PER_SECOND: rate }), rate).toEqual([
        `SMTP_MAX_PER_SECOND: expected a whole number of messages per second, 1 or more, such as 10 (no fractions) (got ${JSON.stringify(rate.trim())})`,
      ]);
    const ok = parseConfig({ SMTP_MAX_PER_SECOND: '30' });
    expect(ok.ok && ok.config.smtpMaxPerSecond).toBe(30);
  });

  it('Passwords: config errors for malformed URLs never echo any part of the userinfo', () => {
    const cases = {
      // `#` in an unencoded password starts a fragment: the URL no longer parses.
      DATABASE_URL: 'postgres://gymuser:hunter2#x@db.example.org:5432/gym',
      // A missing `//`: the whole of it parses as a path, with no host.
      SMTP_URL: 'smtp:mailuser:hunter2@relay.example.org:587',
      // An empty host.
      IMAP_URL: 'imaps://imapuser:hunter2@/INBOX',
      GYM_PUBLIC_URL: 'https://webuser:hunter2@',
    };
    const lines = problems({ ...cases, GYM_SECRET: secret });
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      for (const part of ['hunter2', 'gymuser', 'mailuser', 'imapuser', 'webuser', '#x'])
        expect(line).not.toContain(part);
    }
    expect(lines[0]).toContain('(got "postgres://***@db.example.org:5432/gym")');
    expect(lines[1]).toContain('(got "smtp:***@relay.example.org:587")');
    // And the same through loadConfig's one line.
    expect(() => loadConfig({ ...cases, GYM_SECRET: secret }, '/nonexistent/.env')).toThrow(
      /^(?!.*hunter2).*$/s,
    );
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
