import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { migrateToLatest, migrationStatus } from '../../db/migrate.js';

export function migrateCommand(getConfig: () => Config): Command {
  return new Command('migrate')
    .description(
      'apply pending database migrations, one transaction each, reporting each one;\n' +
        'safe to run twice and from several processes at once',
    )
    .option('--status', 'list every migration and when it was applied, and change nothing')
    .option('--json', 'print one JSON object instead of lines')
    .action(async (options: { status?: boolean; json?: boolean }) => {
      const config = getConfig();
      const database = await createDatabase(databaseConfigFor(config));
      const print = (line: string) => {
        if (!options.json) process.stdout.write(`${line}\n`);
      };
      try {
        if (options.status) {
          const migrations = await migrationStatus(database.db);
          if (options.json) {
            process.stdout.write(
              `${JSON.stringify({ database: database.location, migrations })}\n`,
            );
            return;
          }
          print(`database: ${database.location}`);
          for (const m of migrations) {
            print(
              `${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending             '}  ${m.name}`,
            );
          }
          return;
        }
        print(`database: ${database.location}`);
        const applied = await migrateToLatest(database.db, (name) => print(`applied ${name}`));
        // What enrolled learners' mail needs, compiled once here rather than in every worker.
        await (
          await import('../../db/compiled-programmes.js')
        ).precompileProgrammes(database.db, {
          validation: 'soft',
        });
        await (
          await import('../../db/compiled-layouts.js')
        ).precompileLayouts(database.db, { validation: 'soft' });
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ database: database.location, applied })}\n`);
        } else if (applied.length === 0) {
          print('up to date: no migration to apply');
        } else {
          print(`${applied.length} migration${applied.length === 1 ? '' : 's'} applied`);
        }
      } finally {
        await database.close();
      }
    });
}
