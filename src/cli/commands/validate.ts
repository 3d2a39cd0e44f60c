import { Command } from 'commander';
import { GymError } from '../../errors.js';
import { defaultSequencePaths, loadSequenceFiles } from '../../sequence/load-files.js';
import type { LoadResult } from '../../sequence/loader.js';

/**
 * `gym validate [paths...]`: checks sequence files the way the engine will load them and prints
 * every problem as `file:line:col message`, one a line, so that editors and CI can jump to it.
 */
export function validateCommand(): Command {
  return new Command('validate')
    .description(
      'check sequence files (default: every *.yaml in sequences/) and print each\n' +
        'problem as file:line:col message; exits 1 if anything is wrong',
    )
    .argument('[paths...]', 'sequence files or directories', [...defaultSequencePaths])
    .option('--json', 'print one JSON object instead of lines')
    .action((paths: string[], options: { json?: boolean }) => {
      const results = loadSequenceFiles(paths);
      if (options.json) process.stdout.write(`${JSON.stringify(asJson(results))}\n`);
      else for (const line of asLines(results)) process.stdout.write(`${line}\n`);

      const failed = results.filter((result) => !result.ok);
      const problems = failed.reduce((sum, result) => sum + result.problems.length, 0);
      if (failed.length > 0) {
        throw new GymError(
          'SEQUENCE_INVALID',
          `${count(problems, 'problem')} in ${count(failed.length, 'file')}`,
          {
            files: failed.map((result) => result.path),
          },
        );
      }
    });
}

function asLines(results: readonly LoadResult[]): string[] {
  const lines = results.flatMap((result) =>
    result.ok
      ? [
          `ok  ${result.path}  ${result.sequence.title}  ${shortHash(result.hash)}${languagesNote(result)}`,
          // Worth a look, not wrong: the file still validates.
          ...result.notices.map(
            (notice) => `${notice.file}:${notice.line}:${notice.column} notice: ${notice.message}`,
          ),
        ]
      : [
          ...result.problems.map(
            (problem) => `${problem.file}:${problem.line}:${problem.column} ${problem.message}`,
          ),
          ...(result.notices ?? []).map(
            (notice) => `${notice.file}:${notice.line}:${notice.column} notice: ${notice.message}`,
          ),
        ],
  );
  const failed = results.filter((result) => !result.ok).length;
  const summary =
    failed === 0
      ? `${count(results.length, 'sequence file')} ok`
      : `${count(results.length, 'sequence file')}: ${results.length - failed} ok, ${failed} with problems`;
  return [...lines, summary];
}

function asJson(results: readonly LoadResult[]) {
  return {
    files: results.map((result) =>
      result.ok
        ? {
            path: result.path,
            ok: true,
            id: result.sequence.id,
            title: result.sequence.title,
            hash: result.hash,
            languages: result.sequence.languages ?? ['en'],
            problems: [],
            notices: result.notices,
          }
        : {
            path: result.path,
            ok: false,
            id: result.id ?? null,
            title: result.title ?? null,
            hash: null,
            problems: result.problems,
          },
    ),
  };
}

/** "  [cy, en]" for a programme in more than English. */
function languagesNote(result: Extract<LoadResult, { ok: true }>): string {
  const languages = result.sequence.languages;
  return languages === undefined ? '' : `  [${languages.join(', ')}]`;
}

/** The hex digits people compare by eye; the full hash is in --json. */
function shortHash(hash: string): string {
  return hash.replace(/^sha256-/, '').slice(0, 12);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
