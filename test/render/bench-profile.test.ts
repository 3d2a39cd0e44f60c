import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summariseProfiles } from '../../bench/profile.js';

// What `npm run bench` says of where a worker's time goes. A profile as `node --cpu-prof`
// writes it: a call tree, and which node each sample was taken in.
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 },
  hitCount: 0,
  children,
});

describe('the bench’s profile summary', () => {
  it('counts native code and Node’s internals for the code that called them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-profile-'));
    try {
      const base = 'file:///srv/gym';
      const nodes = [
        frame(1, '(root)', '', [2, 6, 9, 10]),
        frame(2, 'submit', `${base}/node_modules/pg/lib/query.js`, [3]),
        frame(3, 'writeGeneric', 'node:internal/stream_base_commons', [4]),
        frame(4, 'writev', ''),
        frame(6, 'run', `${base}/dist/mail/smtp-pipeline.js`, [7]),
        frame(7, 'write', 'node:net', [8]),
        frame(8, 'writeBuffer', ''),
        frame(9, '(idle)', ''),
        frame(10, 'fillTemplate', `${base}/dist/mail/splice.js`),
      ];
      // 6 ms writing to PostgreSQL's socket, 2 ms to the relay's, 2 ms composing, 5 ms idle.
      const samples = [4, 4, 4, 8, 10, 9];
      const timeDeltas = [2000, 2000, 2000, 2000, 2000, 5000];
      writeFileSync(
        join(dir, 'worker.cpuprofile'),
        JSON.stringify({ nodes, samples, timeDeltas, startTime: 0, endTime: 15_000 }),
      );
      const summary = summariseProfiles(dir);
      expect(summary.totalMs).toBe(10);
      expect(Object.fromEntries(summary.stages.map((s) => [s.where, s.ms]))).toEqual({
        'database client': 6,
        'SMTP client': 2,
        compose: 2,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
