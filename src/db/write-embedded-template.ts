/**
 * `npm run db-template`: writes the empty embedded database for the installed PGlite (see
 * embedded-template.ts). Run it after upgrading `@electric-sql/pglite`, and commit the file.
 */
import { writeEmptyDatabaseTemplate } from './embedded-template.js';

process.stdout.write(`wrote ${await writeEmptyDatabaseTemplate()}\n`);
