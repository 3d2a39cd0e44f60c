import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

const bad = 'test/fixtures/sequences/bad';
const good = 'test/fixtures/sequences/good';

describe('gym validate', () => {
  it('prints each problem as file:line:col message, then a summary, and exits 1', async () => {
    const result = await runGym([
      'validate',
      `${bad}/unknown-day.yaml`,
      `${bad}/when.yaml`,
      `${good}/minimal.yaml`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout.replace(/[0-9a-f]{12}\n/, '<hash>\n')).toMatchInlineSnapshot(`
      "test/fixtures/sequences/bad/unknown-day.yaml:14:14 week 1: step "practice": unknown day "wedn" (expected mon, tue, wed, thu, fri, sat or sun)
      test/fixtures/sequences/bad/when.yaml:11:50 week 1: step "nudge": when.not_done: there is no step "kikoff" in week 1 (did you mean "kickoff"?)
      test/fixtures/sequences/bad/when.yaml:12:50 week 1: step "again": when.not_done: "again" is this step itself; name an earlier step of week 1
      test/fixtures/sequences/bad/when.yaml:13:46 week 1: step "early": when.done: step "review" is sent after this one, so it cannot be done yet; name an earlier step
      test/fixtures/sequences/bad/when.yaml:15:37 week 1: step "both": when: expected exactly one of not_done or done
      ok  test/fixtures/sequences/good/minimal.yaml  Minimal programme  <hash>
      3 sequence files: 1 ok, 2 with problems
      "
    `);
    expect(result.stderr).toBe('gym: 5 problems in 2 files\n');
  });

  it('prints ok, the title and the short hash for valid files, and exits 0', async () => {
    const result = await runGym(['validate', good]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^ok {2}test\/fixtures\/sequences\/good\/minimal\.yaml {2}Minimal programme {2}[0-9a-f]{12}$/,
    );
    expect(lines[1]).toMatch(
      /^ok {2}test\/fixtures\/sequences\/good\/with-markdown\.yaml {2}Programme with Markdown files {2}[0-9a-f]{12}$/,
    );
    expect(lines[2]).toBe('2 sequence files ok');
  });

  it('--json prints one object with every file, its id, title, hash and problems', async () => {
    const result = await runGym([
      'validate',
      '--json',
      `${bad}/duplicate-step.yaml`,
      `${good}/minimal.yaml`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('gym: 1 problem in 1 file\n');
    const report = JSON.parse(result.stdout) as { files: { hash: string | null }[] };
    expect(report.files[1]!.hash).toMatch(/^sha256-[0-9a-f]{64}$/);
    report.files[1]!.hash = '<hash>';
    expect(report).toMatchInlineSnapshot(`
      {
        "files": [
          {
            "hash": null,
            "id": "duplicate-step",
            "ok": false,
            "path": "test/fixtures/sequences/bad/duplicate-step.yaml",
            "problems": [
              {
                "column": 15,
                "file": "test/fixtures/sequences/bad/duplicate-step.yaml",
                "line": 11,
                "message": "week 1: step "kickoff": another step of week 1 already has the id "kickoff" (line 10); give each step its own id",
              },
            ],
            "title": "duplicate-step",
          },
          {
            "hash": "<hash>",
            "id": "minimal",
            "languages": [
              "en",
            ],
            "notices": [],
            "ok": true,
            "path": "test/fixtures/sequences/good/minimal.yaml",
            "problems": [],
            "title": "Minimal programme",
          },
        ],
      }
    `);
  });

  it('checks ids and the default programme across the files given together', async () => {
    const result = await runGym(['validate', `${bad}/across`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('gym: 4 problems in 2 files\n');
  });

  it('says so in one line when a path does not exist', async () => {
    const result = await runGym(['validate', 'no/such/file.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('gym: no/such/file.yaml: no such file or directory\n');
  });
});
