import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, failureReport } from '../../src/cli/main.js';
import { migrationStatus } from '../../src/db/migrate.js';
import { GymError } from '../../src/errors.js';
import { testBackends } from '../helpers/backends.js';
import { runGym } from '../helpers/cli.js';

const freshDataDir = () => mkdtempSync(join(tmpdir(), 'gym-cli-'));

describe('the gym command line', () => {
  it('has --help for every command', async () => {
    const top = await runGym(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: gym');
    // One real process above; each command's help in-process (a process each costs seconds).
    for (const command of (await buildProgram()).commands) {
      const program = await buildProgram(command.name());
      expect(program.commands.map((c) => c.name())).toEqual([command.name()]);
      let out = '';
      for (const c of [program, ...program.commands])
        c.configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (out += text) });
      const help = await program.parseAsync(['node', 'gym', command.name(), '--help']).then(
        () => 'no help shown',
        (error: { code?: string }) => error.code,
      );
      expect(help, command.name()).toBe('commander.helpDisplayed');
      expect(out).toContain(`Usage: gym ${command.name()}`);
      expect(command.description(), command.name()).not.toBe('');
    }
    const one = await runGym(['inbox', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('Usage: gym inbox');
  });

  it('stops on bad configuration with one line naming the variable, exit 1', async () => {
    const result = await runGym(['migrate'], {
      DATABASE_URL: 'nonsense',
      GYM_SECRET: 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'gym: DATABASE_URL: expected a PostgreSQL URL such as postgres://user:password@host:5432/database (got "nonsense")\n',
    );
  });

  it('says which server it cannot reach, in one line, exit 1', async () => {
    const result = await runGym(['migrate'], {
      DATABASE_URL: 'postgres://gym:secret@127.0.0.1:1/gym',
      GYM_SECRET: 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^gym: cannot connect to PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/gym: .*ECONNREFUSED.*check that the server is running and that DATABASE_URL is right\n$/,
    );
    expect(result.stderr).not.toContain('secret');
  });

  it('answers an unknown command with exit 1 and a pointer to --help', async () => {
    const result = await runGym(['migrat']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown command 'migrat'");
  });

  it('tells our bugs (exit 2, with the stack) from the user’s mistakes (exit 1, one line)', () => {
    expect(failureReport(new GymError('CONFIG_INVALID', 'LOG_LEVEL: expected one of ...'))).toEqual(
      {
        exitCode: 1,
        report: 'gym: LOG_LEVEL: expected one of ...\n',
      },
    );
    const bug = failureReport(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(bug.exitCode).toBe(2);
    expect(bug.report).toMatch(
      /^gym: internal error \(please report it, with the lines below\): Cannot read/,
    );
    expect(bug.report).toContain('at ');
  });

  it('migrates the embedded database, and a second run is a no-op', async () => {
    const env = { GYM_DATA_DIR: freshDataDir() };
    const first = await runGym(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(
      `database: ${env.GYM_DATA_DIR}/db\napplied 0001-initial\napplied 0002-replies\napplied 0003-suppressions\napplied 0004-leases\napplied 0005-send-quotas\napplied 0006-worker-ticks\napplied 0008-data-rights\napplied 0009-journey\napplied 0010-languages\napplied 0011-intake\napplied 0013-compiled-programmes\napplied 0014-compiled-layouts\napplied 0015-claim-in-order\n13 migrations applied\n`,
    );
    const second = await runGym(['migrate'], env);
    expect(second.stdout).toBe(
      `database: ${env.GYM_DATA_DIR}/db\nup to date: no migration to apply\n`,
    );
    const status = await runGym(['migrate', '--status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      migrations: [
        { name: '0001-initial' },
        { name: '0002-replies' },
        { name: '0003-suppressions' },
        { name: '0004-leases' },
        { name: '0005-send-quotas' },
        { name: '0006-worker-ticks' },
        { name: '0008-data-rights' },
        { name: '0009-journey' },
        { name: '0010-languages' },
        { name: '0011-intake' },
        { name: '0013-compiled-programmes' },
        { name: '0014-compiled-layouts' },
        { name: '0015-claim-in-order' },
      ],
    });
  });

  it('survives two processes migrating the embedded database at once', async () => {
    const env = { GYM_DATA_DIR: freshDataDir() };
    const results = await Promise.all([
      runGym(['migrate', '--json'], env),
      runGym(['migrate', '--json'], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const applied = results.map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
    expect(applied.flat().sort()).toEqual([
      '0001-initial',
      '0002-replies',
      '0003-suppressions',
      '0004-leases',
      '0005-send-quotas',
      '0006-worker-ticks',
      '0008-data-rights',
      '0009-journey',
      '0010-languages',
      '0011-intake',
      '0013-compiled-programmes',
      '0014-compiled-layouts',
      '0015-claim-in-order',
    ]);
  });
});

// PGlite is covered above; here the same race against a real server, when there is one.
describe.each(testBackends().filter((b) => b.name === 'postgres'))(
  'gym migrate on $name',
  (backend) => {
    it('survives two processes migrating a fresh database at once', async () => {
      const database = await backend.open();
      try {
        const env = {
          DATABASE_URL: database.url!,
          GYM_SECRET: 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f',
        };
        const results = await Promise.all([
          runGym(['migrate', '--json'], env),
          runGym(['migrate', '--json'], env),
        ]);
        expect(results.map((r) => [r.code, r.stderr])).toEqual([
          [0, ''],
          [0, ''],
        ]);
        const applied = results.map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
        expect(applied.flat().sort()).toEqual([
          '0001-initial',
          '0002-replies',
          '0003-suppressions',
          '0004-leases',
          '0005-send-quotas',
          '0006-worker-ticks',
          '0008-data-rights',
          '0009-journey',
          '0010-languages',
          '0011-intake',
          '0013-compiled-programmes',
          '0014-compiled-layouts',
          '0015-claim-in-order',
        ]);
        expect(await migrationStatus(database.db)).toMatchObject([
          { name: '0001-initial' },
          { name: '0002-replies' },
          { name: '0003-suppressions' },
          { name: '0004-leases' },
          { name: '0005-send-quotas' },
          { name: '0006-worker-ticks' },
          { name: '0008-data-rights' },
          { name: '0009-journey' },
          { name: '0010-languages' },
          { name: '0011-intake' },
          { name: '0013-compiled-programmes' },
          { name: '0014-compiled-layouts' },
          { name: '0015-claim-in-order' },
        ]);
      } finally {
        await database.close();
      }
    });
  },
);
