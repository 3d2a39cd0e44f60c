/**
 * Preloaded into each `gym run --once` worker of `npm run bench` (`node --import
 * ./bench/rss-probe.js dist/cli/main.js run ...`), so the worker runs unchanged: samples the
 * resident set every 50 ms and, when the process exits, writes one line to stderr:
 *
 *   BENCH_PROBE {"pid":123,"maxRss":...,"sampledPeakRss":...,"cpuMicros":...,"wallMs":...}
 *
 * `maxRss` is the kernel's peak (getrusage), in bytes. Plain JavaScript, so that a worker run
 * from `dist` loads no TypeScript loader just for the probe.
 */
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval } from 'node:timers';

const startedAt = performance.now();
let sampledPeak = 0;
let peakHeapUsed = 0;
const sample = () => {
  const usage = process.memoryUsage();
  sampledPeak = Math.max(sampledPeak, usage.rss);
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
};
setInterval(sample, 50).unref();

process.on('exit', () => {
  sample();
  const resources = process.resourceUsage();
  const report = {
    pid: process.pid,
    maxRss: resources.maxRSS * 1024,
    sampledPeakRss: sampledPeak,
    peakHeapUsed,
    cpuMicros: resources.userCPUTime + resources.systemCPUTime,
    wallMs: performance.now() - startedAt,
  };
  writeSync(2, `\nBENCH_PROBE ${JSON.stringify(report)}\n`);
});
