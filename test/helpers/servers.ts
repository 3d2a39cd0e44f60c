import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe } from 'vitest';

/**
 * The real servers some suites need besides Node: a PostgreSQL to point TEST_DATABASE_URL at,
 * Debian's Dovecot 2.3 and Debian's Chromium. On a fresh clone none of them is configured, and
 * `npm test` still passes: the suites that need one are left out and the servers reporter
 * (servers-reporter.ts) says so in one line at the end. In CI (GYM_REQUIRE_REAL_SERVERS=1)
 * nothing is left out: a missing server fails the suite that needs it.
 */
export type Server = 'postgres' | 'dovecot' | 'chromium';

declare module 'vitest' {
  interface TaskMeta {
    /** On a suite left out because this machine lacks these servers. */
    needsServers?: Server[];
  }
}

/** How the summary line names each server and says how to get it. */
export const serverNames: Record<Server, { name: string; howToGet: string }> = {
  postgres: { name: 'PostgreSQL', howToGet: 'set TEST_DATABASE_URL' },
  dovecot: { name: 'Dovecot', howToGet: 'apt-get install dovecot-imapd' },
  chromium: { name: 'Chromium', howToGet: 'apt-get install chromium' },
};

/** CI: a test that needs a server it cannot have fails instead of being left out. */
export function requireRealServers(): boolean {
  return process.env.GYM_REQUIRE_REAL_SERVERS === '1';
}

/** The executable `name` as a shell would find it on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function present(server: Server): boolean {
  switch (server) {
    case 'postgres':
      return process.env.TEST_DATABASE_URL !== undefined && process.env.TEST_DATABASE_URL !== '';
    case 'dovecot':
      // Debian puts dovecot in /usr/sbin: on PATH for root (and CI), not always for others.
      return onPath('dovecot') !== undefined && onPath('doveadm') !== undefined;
    case 'chromium':
      return onPath('chromium') !== undefined;
  }
}

/**
 * The servers among `needs` that this machine lacks. Always none under GYM_REQUIRE_REAL_SERVERS=1,
 * so that the suite runs and fails where it starts the missing server.
 */
export function missingServers(needs: readonly Server[]): Server[] {
  if (requireRealServers()) return [];
  return needs.filter((server) => !present(server));
}

/**
 * `describe(name, body)` when every server in `needs` is here (or required). Otherwise the suite
 * is still collected, skipped, and marked with what it lacks, for the summary line; a file whose
 * only suite needs a missing server then reports it skipped instead of failing with "No test
 * suite found".
 */
export function describeWithServers(
  needs: readonly Server[],
  name: string,
  body: () => void,
): void {
  const missing = missingServers(needs);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const what = missing.map((server) => serverNames[server].name).join(' and ');
  describe(
    `${name} (not run here: needs ${what})`,
    { skip: true, meta: { needsServers: missing } },
    body,
  );
}
