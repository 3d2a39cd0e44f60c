import type { Reporter, TestModule } from 'vitest/node';
import { serverNames, type Server } from './servers.js';

/**
 * Ends the run with one line naming the suites that were not run for want of a server (see
 * servers.ts), and how to get each server, e.g.
 * "not run here: 3 suites need PostgreSQL (set TEST_DATABASE_URL), 2 need Dovecot (apt-get
 * install dovecot-imapd)". Says nothing when every suite ran, as in CI.
 */
export default class ServersReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const suites = new Map<Server, number>();
    for (const module of testModules) {
      for (const suite of module.children.allSuites()) {
        for (const server of suite.meta().needsServers ?? [])
          suites.set(server, (suites.get(server) ?? 0) + 1);
      }
    }
    const line = summaryLine(suites, process.env.TEST_DATABASE_URL === undefined);
    if (line !== undefined) process.stdout.write(`\n ${line}\n\n`);
  }
}

/** The summary line, or undefined when there is nothing to say. */
function summaryLine(suites: ReadonlyMap<Server, number>, pgliteOnly: boolean): string | undefined {
  const counted = (['postgres', 'dovecot', 'chromium'] as const).filter(
    (server) => (suites.get(server) ?? 0) > 0,
  );
  if (counted.length === 0) return undefined;
  const parts = counted.map((server, i) => {
    const count = suites.get(server)!;
    const { name, howToGet } = serverNames[server];
    const verb = count === 1 ? 'needs' : 'need';
    const noun = i > 0 ? '' : count === 1 ? ' suite' : ' suites';
    return `${count}${noun} ${verb} ${name} (${howToGet})`;
  });
  const storage = pgliteOnly
    ? '; the storage suites ran on PGlite only (set TEST_DATABASE_URL for PostgreSQL too)'
    : '';
  return `not run here: ${parts.join(', ')}${storage}`;
}
