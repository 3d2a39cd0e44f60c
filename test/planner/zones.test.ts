import { describe, expect, it } from 'vitest';
import { isValidZone } from '../../src/planner/index.js';

describe('checking time zones', () => {
  it('answers valid and invalid names', () => {
    expect(isValidZone('Europe/London')).toBe(true);
    expect(isValidZone('UTC')).toBe(true);
    expect(isValidZone('Europe/Londn')).toBe(false);
    expect(isValidZone('Europe/Londn')).toBe(false);
  });

  // luxon's own check leaves ~28 KB of native memory per call (10,000 calls: about +290 MB of
  // RSS, none of it in the V8 heap), and a worker checks the zone of every row it sends (#17).
  it('does not grow the process with every check: a wave of checks costs next to nothing', () => {
    const zones = ['Europe/London', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];
    for (const zone of zones) isValidZone(zone);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 10_000; i += 1) expect(isValidZone(zones[i % zones.length]!)).toBe(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });
});
