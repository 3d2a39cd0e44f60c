import type { SendTally } from '../mail/watched-transport.js';

/** The parts of a worker that can fail on their own, as /healthz names them. */
export type HealthComponent = 'database' | 'relay' | 'mailbox';

export interface Fault {
  readonly component: HealthComponent;
  /** One line for a person: what failed, where (host:port, never a password) and why. */
  readonly reason: string;
  readonly since: Date;
}

/**
 * What this worker knows is wrong right now: the run loop and the reply listener write it, and
 * /healthz reads it (503 while anything is failing). A fault lasts until the component is seen
 * working again.
 */
export interface HealthBoard {
  fail(component: HealthComponent, reason: string, now: Date): void;
  clear(component: HealthComponent): void;
  faults(): Fault[];
}

export function healthBoard(): HealthBoard {
  const faults = new Map<HealthComponent, Fault>();
  return {
    fail(component, reason, now) {
      const since = faults.get(component)?.since ?? now;
      faults.set(component, { component, reason, since });
    },
    clear(component) {
      faults.delete(component);
    },
    faults: () => [...faults.values()],
  };
}

/**
 * What a tick's sends say about the relay: `ok` when it took a message, a fault's reason when it
 * took none and refused at least one for a reason that is not about one recipient, and
 * `unknown` when nothing was sent (or only recipients were refused).
 *
 * @example relayVerdict({ attempted: 3, accepted: 0, relayRefusals: 3, firstRefusal: { reason:
 *   'MAIL FROM: 550 5.7.1 sender refused' } }, 'smtp relay.example.org:587')
 *   // { fault: 'the SMTP relay relay.example.org:587 took none of the 3 messages: MAIL FROM: 550 ...' }
 */
export function relayVerdict(
  tally: SendTally,
  transportName: string,
): 'ok' | 'unknown' | { fault: string } {
  if (tally.accepted > 0) return 'ok';
  if (tally.attempted === 0 || tally.relayRefusals === 0 || tally.firstRefusal === undefined)
    return 'unknown';
  const what =
    tally.attempted === 1
      ? 'did not take the only message'
      : `took none of the ${tally.attempted} messages`;
  return { fault: `${relayLabel(transportName)} ${what}: ${tally.firstRefusal.reason}` };
}

/** `the SMTP relay relay.example.org:587` from a transport's name, without its pool details. */
function relayLabel(transportName: string): string {
  const bare = transportName.replace(/\s*\(.*\)$/, '');
  const smtp = /^smtps? (.*)$/.exec(bare);
  return smtp ? `the SMTP relay ${smtp[1]}` : `the outbox ${bare.replace(/^maildir /, '')}`;
}

export interface FaultLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the operator can do about each component, after the reason. */
const advice: Record<HealthComponent, string> = {
  relay: 'nothing is being sent; the messages wait and are retried. Check SMTP_URL and the relay',
  mailbox:
    'replies wait in the mailbox and are read once it answers. Check IMAP_URL and the server',
  database: 'nothing is sent until it answers. Check DATABASE_URL and the server',
};

/**
 * Reports faults on a board and in the log for a person: one error line when a fault begins and
 * then one a minute while it lasts (not one per message or per tick), and one line when it
 * clears.
 */
export function faultReporter(
  board: HealthBoard,
  log: FaultLog,
  options: {
    everyMs?: number;
    /** Milliseconds from a monotonic clock; `performance.now` by default, fake in tests. */
    monotonic?: () => number;
  } = {},
): {
  failing(component: HealthComponent, reason: string, now: Date): void;
  working(component: HealthComponent): void;
} {
  const everyMs = options.everyMs ?? 60_000;
  const monotonic = options.monotonic ?? (() => performance.now());
  // By the monotonic clock: a run on a shifted clock (--clock) still logs once a real minute.
  const lastLogged = new Map<HealthComponent, number>();
  return {
    failing(component, reason, now) {
      board.fail(component, reason, now);
      const last = lastLogged.get(component);
      const at = monotonic();
      if (last !== undefined && at - last < everyMs) return;
      lastLogged.set(component, at);
      const since = board.faults().find((f) => f.component === component)?.since ?? now;
      log.error(
        { component, since: since.toISOString(), reason },
        `${reason}; ${advice[component]}`,
      );
    },
    working(component) {
      board.clear(component);
      if (lastLogged.delete(component))
        log.info(
          { component },
          `${component === 'relay' ? 'the relay' : `the ${component}`} is working again`,
        );
    },
  };
}

/**
 * The run loop's look at the relay after each tick: a tick that sent something clears a relay
 * fault, a tick in which the relay refused everything raises (or keeps) it, and a tick with
 * nothing to send changes nothing.
 */
export function relayWatch(
  takeTally: () => SendTally,
  transportName: string,
  reporter: ReturnType<typeof faultReporter>,
  now: () => Date,
): () => void {
  return () => {
    const relay = relayVerdict(takeTally(), transportName);
    if (relay === 'ok') reporter.working('relay');
    else if (relay !== 'unknown') reporter.failing('relay', relay.fault, now());
  };
}
