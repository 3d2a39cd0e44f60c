import { fileURLToPath } from 'node:url';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { LoadResult } from '../../src/sequence/loader.js';

/** The fixture folder; results name files relative to it (`bad/when.yaml`), keeping snapshots short. */
export const fixtures = fileURLToPath(new URL('../fixtures/sequences', import.meta.url));

/** Loads fixture files together, as `gym validate` would. */
export function loadFixtures(...paths: string[]): LoadResult[] {
  return loadSequenceFiles(paths, fixtures);
}

/** The problems of fixture files as `gym validate` prints them, one a line. */
export function problemLines(...paths: string[]): string {
  return loadFixtures(...paths)
    .flatMap((result) => (result.ok ? [] : result.problems))
    .map((problem) => `${problem.file}:${problem.line}:${problem.column} ${problem.message}`)
    .join('\n');
}
