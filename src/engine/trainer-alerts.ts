import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { composeMessage } from '../mail/compose.js';
import { domainOf } from '../mail/headers.js';
import { sendLeaseSecondsOf, type DispatchDependencies, type HeldLease } from './dispatch.js';

/** A learner who said "too hard" or asked for help, with their words. */
export interface FlaggedLearner {
  readonly name: string;
  readonly email: string;
  readonly programme: string;
  readonly week: number | undefined;
  readonly kind: 'too_hard' | 'help';
  readonly words: string;
  readonly at: Date;
}

/** What a day's alert tells the trainer; an empty one is not sent. */
export interface AlertContents {
  readonly flagged: readonly FlaggedLearner[];
  /** Mail held for a person (`gym inbox`), now: how many, and the oldest few. */
  readonly held: { readonly count: number; readonly oldest: readonly HeldMail[] };
  readonly bounces: readonly {
    readonly email: string;
    readonly detail: string;
    readonly at: Date;
  }[];
  readonly failed: readonly {
    readonly to: string;
    readonly what: string;
    readonly reason: string;
  }[];
}

export interface HeldMail {
  readonly id: number;
  readonly from: string | undefined;
  readonly reason: string;
  readonly at: Date;
}

/** A day's alert held by this worker, with the window it covers. */
export interface AlertClaim extends HeldLease {
  readonly attempts: number;
  readonly coversFrom: Date;
  readonly coversTo: Date;
}

export type AlertSettlement =
  | { readonly status: 'sent'; readonly messageId: string }
  | { readonly status: 'pending'; readonly retryAt: Date; readonly reason: string }
  | { readonly status: 'failed' | 'skipped'; readonly reason: string };

/** The alert's storage; `src/db/trainer-alert-store.ts` implements it. */
export interface TrainerAlertStore {
  /**
   * Takes the day's alert: inserts its row, covering what happened since the previous day's
   * window ended, or reclaims one whose retry is due or whose worker died. Undefined when another
   * worker has it or it is settled.
   */
  claim(input: {
    day: string;
    workerId: string;
    leaseSeconds: number;
    now: Date;
  }): Promise<AlertClaim | undefined>;
  contents(from: Date, to: Date): Promise<AlertContents>;
  fence(held: HeldLease, sendLeaseSeconds: number): Promise<boolean>;
  settle(held: HeldLease, settlement: AlertSettlement, items: number, now: Date): Promise<boolean>;
}

export interface TrainerAlertOptions {
  readonly to: string;
  readonly zone: string;
  /** The local hour from which the day's alert goes (8). */
  readonly fromHour?: number;
}

/** Working days: Monday to Friday. */
const workingDays = new Set([1, 2, 3, 4, 5]);

/**
 * The day whose alert is due at `now` in the trainer's zone: a working day from 08:00, else
 * undefined. Pure.
 *
 * @example alertDay(new Date('2027-01-04T09:00:00Z'), 'Europe/London') // '2027-01-04'
 */
export function alertDay(now: Date, zone: string, fromHour = 8): string | undefined {
  const local = DateTime.fromJSDate(now, { zone });
  if (!workingDays.has(local.weekday) || local.hour < fromHour) return undefined;
  return local.toISODate() ?? undefined;
}

/** Items the trainer would act on; held mail counts as one item. */
export function itemsOf(contents: AlertContents): number {
  return (
    contents.flagged.length +
    (contents.held.count > 0 ? 1 : 0) +
    contents.bounces.length +
    contents.failed.length
  );
}

/**
 * The daily trainer alert (`GYM_TRAINER_ADDRESS`): one email a working day, only when there is
 * something to act on: learners who said "too hard" or asked for help (their words quoted), mail
 * held in `gym inbox`, bounces and failed sends since the last alert. One per day whichever worker
 * gets there (a row per day, claimed under a lease and fenced like a digest); sent through the
 * same transport and the relay's budget as every other message. The "too hard" acknowledgement
 * promises the trainer will get in touch: this is how they hear of it.
 */
export async function trainerAlertTick(
  deps: DispatchDependencies,
  store: TrainerAlertStore,
  options: TrainerAlertOptions,
  now: Date,
): Promise<AlertSettlement['status'] | 'lost' | undefined> {
  const day = alertDay(now, options.zone, options.fromHour);
  if (day === undefined) return undefined;
  const claim = await store.claim({
    day,
    workerId: deps.workerId,
    leaseSeconds: deps.leaseSeconds ?? 300,
    now,
  });
  if (claim === undefined) return undefined;
  const contents = await store.contents(claim.coversFrom, claim.coversTo);
  const items = itemsOf(contents);
  const settlement: AlertSettlement | 'lost' =
    items === 0
      ? { status: 'skipped', reason: 'nothing to tell the trainer' }
      : await sendAlert(deps, store, options, claim, contents, day, now);
  if (settlement === 'lost') return 'lost';
  return (await store.settle(claim, settlement, items, now)) ? settlement.status : 'lost';
}

async function sendAlert(
  deps: DispatchDependencies,
  store: TrainerAlertStore,
  options: TrainerAlertOptions,
  claim: AlertClaim,
  contents: AlertContents,
  day: string,
  now: Date,
): Promise<AlertSettlement | 'lost'> {
  if (deps.budget !== undefined) {
    const place = await deps.budget.reserve(now, 1);
    if (place.granted < 1)
      return {
        status: 'pending',
        retryAt: place.retryAt ?? new Date(now.getTime() + 1000),
        reason: place.reason ?? 'over the relay quota',
      };
  }
  const messageId = `<trainer-alert-${day}-${randomBytes(6).toString('hex')}@${domainOf(deps.mail.replyAddress)}>`;
  const text = alertText(contents, options.zone);
  const raw = await composeMessage({
    from: deps.mail.from,
    to: { name: 'Trainer', email: options.to },
    replyTo: deps.mail.replyAddress,
    subject: alertSubject(contents, day),
    text,
    messageId,
    date: now,
  });
  if (!(await store.fence(claim, sendLeaseSecondsOf(deps)))) return 'lost';
  const outcome = await deps.transport.send({
    from: deps.mail.replyAddress,
    to: options.to,
    raw,
    messageId,
  });
  if (outcome.status === 'sent') return { status: 'sent', messageId };
  if (outcome.status === 'failed' || claim.attempts >= (deps.maxAttempts ?? 8))
    return { status: 'failed', reason: outcome.reason };
  return {
    status: 'pending',
    retryAt: new Date(now.getTime() + deps.retryDelay(claim.attempts)),
    reason: outcome.reason,
  };
}

function alertSubject(contents: AlertContents, day: string): string {
  const parts = [
    contents.flagged.length > 0 ? `${contents.flagged.length} need you` : undefined,
    contents.held.count > 0 ? `${contents.held.count} held` : undefined,
    contents.bounces.length > 0 ? `${contents.bounces.length} bounced` : undefined,
    contents.failed.length > 0 ? `${contents.failed.length} failed` : undefined,
  ].filter((p) => p !== undefined);
  return `Digital Gym, ${day}: ${parts.join(', ')}`;
}

/** The alert as plain text: what happened, in the trainer's zone, and the command for each. */
export function alertText(contents: AlertContents, zone: string): string {
  const when = (at: Date) =>
    DateTime.fromJSDate(at, { zone }).toFormat('ccc d LLL HH:mm', { locale: 'en-GB' });
  const quote = (words: string) =>
    words
      .trim()
      .slice(0, 600)
      .split(/\r?\n/)
      .map((line) => `    > ${line}`)
      .join('\n');
  const sections: string[] = [];
  if (contents.flagged.length > 0) {
    sections.push(
      [
        'Learners who need you (their acknowledgement said you would get in touch):',
        ...contents.flagged.map(
          (f) =>
            `- ${f.name} <${f.email}>, ${f.programme}${f.week === undefined ? '' : ` week ${f.week}`}: ` +
            `${f.kind === 'too_hard' ? 'said it is too hard' : 'asked for help'} (${when(f.at)})\n${quote(f.words)}\n` +
            `  gym learner show ${f.email}`,
        ),
      ].join('\n'),
    );
  }
  if (contents.held.count > 0) {
    sections.push(
      [
        `Mail held for you: ${contents.held.count} (run gym inbox)`,
        ...contents.held.oldest.map(
          (h) => `- #${h.id} from ${h.from ?? 'an unknown sender'} (${when(h.at)}): ${h.reason}`,
        ),
      ].join('\n'),
    );
  }
  if (contents.bounces.length > 0) {
    sections.push(
      [
        'Addresses that bounced (nothing more goes to them; gym learner resubscribe once fixed):',
        ...contents.bounces.map((b) => `- ${b.email} (${when(b.at)}): ${b.detail}`),
      ].join('\n'),
    );
  }
  if (contents.failed.length > 0) {
    sections.push(
      [
        'Messages that could not be sent (gym status shows the queue):',
        ...contents.failed.map((f) => `- ${f.what} to ${f.to}: ${f.reason}`),
      ].join('\n'),
    );
  }
  return `${sections.join('\n\n')}\n\nThis alert comes once a working day, only when there is something.\n`;
}
