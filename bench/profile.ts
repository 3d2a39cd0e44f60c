/**
 * With `--profile`, each wave worker runs under `--cpu-prof`; this sums the profiles' self time
 * by where the code lives (a package under node_modules, a folder of src/, Node's internals,
 * the garbage collector), to show where a worker's CPU goes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function bucketOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    // nodemailer does both composition and SMTP: its folder says which.
    if (parts[0] === 'nodemailer') return `nodemailer/${parts.at(-2) ?? ''}`;
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  // The SMTP client (the pool and the pipelined client) lives among the composers in src/mail:
  // its own bucket, its own stage.
  if (/\/(?:src|dist)\/mail\/smtp-(?:transport|pipeline)\./.test(url)) return 'src/mail/smtp';
  const src = /\/(?:src|dist)\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

/** The stage of sending a module's time belongs to. */
function stageOf(bucket: string): string {
  if (/^nodemailer\/(smtp-|shared|addressparser)/.test(bucket)) return 'SMTP client';
  if (bucket === 'src/mail/smtp') return 'SMTP client';
  if (/^nodemailer\/dkim/.test(bucket)) return 'DKIM';
  if (bucket.startsWith('nodemailer/') || bucket === 'src/mail') return 'compose';
  if (['src/render', 'liquidjs', 'html-to-text', 'marked'].includes(bucket)) return 'fill';
  if (['src/calendar', 'ical-generator'].includes(bucket)) return 'invites (ICS)';
  if (['src/planner', 'luxon'].includes(bucket)) return 'decide (time zones)';
  if (
    ['src/db', 'pg', 'pg-protocol', 'pg-pool', 'pg-types', 'kysely', 'postgres-array'].includes(
      bucket,
    )
  )
    return 'database client';
  if (['src/engine', 'src/consent'].includes(bucket)) return 'dispatch';
  if (bucket === '(garbage collector)') return 'garbage collection';
  if (['src/cli', 'src/config', 'commander', 'pino', 'sonic-boom', 'zod', 'yaml'].includes(bucket))
    return 'start-up, logs, config';
  return 'Node and other';
}

export interface ProfileBucket {
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

/**
 * Each node's bucket, where native code and Node's internals count for the code that called
 * them: a socket write under the database driver is database time. On a busy machine the write
 * to PostgreSQL's socket is also where a worker waits while PostgreSQL runs on its CPU (the
 * profiler samples wall time), which left half the time in "(native)" with no owner.
 */
function callersBuckets(nodes: readonly ProfileNode[]): Map<number, string> {
  const parent = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const own = new Map(nodes.map((n) => [n.id, bucketOf(n)]));
  const ownerless = (b: string) => b === '(native)' || b === 'node internals';
  const buckets = new Map<number, string>();
  for (const node of nodes) {
    let where = own.get(node.id)!;
    for (let up = parent.get(node.id); ownerless(where) && up !== undefined; up = parent.get(up)) {
      const caller = own.get(up)!;
      if (!ownerless(caller) && byId.get(up)!.callFrame.url !== '') where = caller;
    }
    buckets.set(node.id, where);
  }
  return buckets;
}

/** The buckets of every `.cpuprofile` in `dir` together, largest first, and by stage. */
export function summariseProfiles(dir: string): {
  totalMs: number;
  buckets: ProfileBucket[];
  stages: ProfileBucket[];
} {
  const totals = new Map<string, number>();
  let totalMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const bucket = callersBuckets(profile.nodes);
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const where = bucket.get(id) ?? 'other';
      if (where === '(idle)') return;
      totals.set(where, (totals.get(where) ?? 0) + ms);
      totalMs += ms;
    });
  }
  const buckets = [...totals.entries()]
    .map(([where, ms]) => ({ where, ms, share: ms / Math.max(1, totalMs) }))
    .sort((a, b) => b.ms - a.ms);
  const byStage = new Map<string, number>();
  for (const { where, ms } of buckets)
    byStage.set(stageOf(where), (byStage.get(stageOf(where)) ?? 0) + ms);
  const stages = [...byStage.entries()]
    .map(([where, ms]) => ({ where, ms, share: ms / Math.max(1, totalMs) }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs, buckets, stages };
}
