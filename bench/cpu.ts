/**
 * CPU accounting for the benchmark, from /proc (Linux): the whole machine, this process, and the
 * PostgreSQL backends serving this run's connections (found by their application_name, sampled
 * while they live, since a backend's counters go with it when its worker disconnects).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { sql, type Kysely } from 'kysely';

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU-seconds the whole machine has spent busy since boot; undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in CPU-seconds; undefined once it has gone. */
function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

export interface CpuReading {
  readonly wallSeconds: number;
  /** Every process on the machine, ours and everyone else's. */
  readonly machineBusySeconds: number | undefined;
  /** This benchmark process. */
  readonly benchSeconds: number;
  /** The PostgreSQL backends of this run's sessions. */
  readonly postgresSeconds: number;
  /** The 1-minute load average when the meter started and stopped. */
  readonly loadBefore: number;
  readonly loadAfter: number;
}

/** Starts measuring; `stop()` returns what was spent since. */
export function cpuMeter(admin: Kysely<unknown>, applicationName: string) {
  const started = performance.now();
  const busyBefore = machineBusySeconds();
  const benchBefore = process.cpuUsage();
  const loadBefore = loadavg()[0]!;
  /** Per backend: its CPU when first seen (or 0 when it started later) and when last seen. */
  const backends = new Map<number, { first: number; last: number }>();
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity
      where application_name = ${applicationName} and pid <> pg_backend_pid()`.execute(admin);
    for (const { pid } of rows) {
      const seconds = processSeconds(pid);
      if (seconds === undefined) continue;
      const known = backends.get(pid);
      if (known === undefined) backends.set(pid, { first: first ? seconds : 0, last: seconds });
      else known.last = seconds;
    }
  };
  let first = true;
  sampling = sample().finally(() => {
    first = false;
  });
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch(() => {});
  }, 250);
  return {
    async stop(): Promise<CpuReading> {
      clearInterval(timer);
      await sampling.then(sample).catch(() => {});
      const busyAfter = machineBusySeconds();
      const bench = process.cpuUsage(benchBefore);
      let postgresSeconds = 0;
      for (const { first: from, last } of backends.values()) postgresSeconds += last - from;
      return {
        wallSeconds: (performance.now() - started) / 1000,
        machineBusySeconds:
          busyBefore === undefined || busyAfter === undefined ? undefined : busyAfter - busyBefore,
        benchSeconds: (bench.user + bench.system) / 1e6,
        postgresSeconds,
        loadBefore,
        loadAfter: loadavg()[0]!,
      };
    },
  };
}
