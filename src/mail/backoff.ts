export interface BackoffOptions {
  /** The step before any doubling: the first retry waits between half of this and all of it. */
  readonly baseMs?: number;
  /** The cap on one wait, however many attempts failed. */
  readonly maxMs?: number;
  /** A source of numbers in [0, 1): `Math.random` in production, a fixed one in tests. */
  readonly random: () => number;
}

/**
 * How long to wait before trying a delivery again after its `attempt`-th temporary failure
 * (1 for the first), in milliseconds. Capped exponential with "equal jitter": the step is
 * `min(maxMs, baseMs * 2^(attempt - 1))` and the wait is half the step plus a random part of the
 * other half.
 *
 * Equal rather than full jitter because the commonest 4xx is greylisting, where a retry sooner
 * than a few minutes is wasted: the wait never drops below half the step, yet workers that failed
 * together (a relay restart) still spread out. With the defaults (1 minute, 6 hours):
 * 0.5-1 min, 1-2 min, 2-4 min, ... and 3-6 h from the 10th attempt on.
 *
 * @example backoff(3, { random: () => 0.5 }) // 180_000: a 4-minute step, 2 fixed + 1 random
 */
export function backoff(attempt: number, options: BackoffOptions): number {
  const baseMs = options.baseMs ?? 60_000;
  const maxMs = options.maxMs ?? 6 * 60 * 60_000;
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2^(n-1) grows past any cap quickly; Math.min keeps Infinity out.
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 1023));
  const r = options.random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.round(step / 2 + (unit * step) / 2);
}
