import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const folder = fileURLToPath(new URL('../../sequences', import.meta.url));
const hasSequences =
  existsSync(folder) && readdirSync(folder).some((name) => /\.ya?ml$/.test(name));

describe('the programmes in sequences/', () => {
  it.skipIf(!hasSequences)('are all valid, together (unique ids, at most one default)', () => {
    const results = loadSequenceFiles(['sequences'], root);
    const problems = results.flatMap((result) =>
      result.ok ? [] : result.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`),
    );
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThan(0);
  });
});
