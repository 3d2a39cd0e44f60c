import type { SendCaps } from '../db/send-budget.js';
import type { EngineStatus } from '../db/status-store.js';

/**
 * When the messages due now will all be out: at the configured caps (per second, per minute)
 * or the rate of the last five minutes when that is slower; a wave over the rolling day's quota
 * finishes days later. Unknown when nothing is capped and nothing went out lately.
 */
export function expectedFinish(
  status: EngineStatus,
  caps: SendCaps,
): { readonly at: Date | undefined; readonly basis: string } {
  const waiting = status.queue.dueNow;
  if (waiting === 0) return { at: status.at, basis: 'nothing is waiting' };
  const capped = Math.min(
    caps.perSecond ?? Infinity,
    caps.perMinute === undefined ? Infinity : caps.perMinute / 60,
  );
  const observed = status.sent.recentPerSecond;
  const rate = observed > 0 ? Math.min(observed, capped) : capped;
  if (!Number.isFinite(rate) || rate <= 0) {
    return {
      at: undefined,
      basis: 'unknown: nothing went out in the last 5 minutes (is a gym run worker up?)',
    };
  }
  const basis =
    rate === capped
      ? caps.perMinute !== undefined && caps.perMinute / 60 === capped
        ? `at SMTP_MAX_PER_MINUTE=${caps.perMinute}`
        : `at SMTP_MAX_PER_SECOND=${caps.perSecond}`
      : `at the last 5 minutes' ${rate.toFixed(2)} messages a second`;
  const leftToday =
    caps.perDay === undefined ? Infinity : Math.max(0, caps.perDay - status.sent.last24h);
  if (waiting > leftToday && caps.perDay !== undefined) {
    const days = Math.ceil((waiting - leftToday) / caps.perDay);
    const lastChunk = (waiting - leftToday) % caps.perDay || caps.perDay;
    return {
      at: new Date(
        status.at.getTime() + days * 24 * 3600_000 + Math.ceil((lastChunk / rate) * 1000),
      ),
      basis: `${basis}; over SMTP_MAX_PER_DAY=${caps.perDay}: ${leftToday} now, the rest over ${days} more day${days === 1 ? '' : 's'}`,
    };
  }
  return { at: new Date(status.at.getTime() + Math.ceil((waiting / rate) * 1000)), basis };
}
