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
  // The SMTP transport lives among the composers in src/mail: its own bucket, its own stage.
  if (/\/(?:src|dist)\/mail\/smtp-transport\./.test(url)) return 'src/mail/smtp-transport';
  const src = /\/(?:src|dist)\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

/** The stage of sending a module's time belongs to. */
function stageOf(bucket: string): string {
  if (/^nodemailer\/(smtp-|shared|addressparser)/.test(bucket)) return 'SMTP client';
  if (bucket === 'src/mail/smtp-transport') return 'SMTP client';
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
    const bucket = new Map(profile.nodes.map((n) => [n.id, bucketOf(n)]));
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
