import type { MailTransport, SendProblem } from './transport.js';

/** What a transport did since the last look: how many sends, how many taken, the first refusal. */
export interface SendTally {
  readonly attempted: number;
  readonly accepted: number;
  /** Refusals that say something about the relay or our set-up, not about one recipient. */
  readonly relayRefusals: number;
  /** The first relay-level refusal, for the one line the operator reads. */
  readonly firstRefusal: SendProblem | undefined;
}

export interface WatchedTransport {
  readonly transport: MailTransport;
  /** The tally since the previous call, and a fresh one begins. */
  readonly takeTally: () => SendTally;
}

/**
 * A transport that counts its outcomes, so that the run loop can tell "the relay refused
 * everything this tick" (a fault to report and to show on /healthz) from "some messages failed"
 * (each row records its own reason). The dispatcher is unchanged: it sees the same transport.
 */
export function watchedTransport(inner: MailTransport): WatchedTransport {
  let tally = {
    attempted: 0,
    accepted: 0,
    relayRefusals: 0,
    firstRefusal: undefined as SendProblem | undefined,
  };
  const fresh = () => ({ attempted: 0, accepted: 0, relayRefusals: 0, firstRefusal: undefined });
  return {
    transport: {
      name: inner.name,
      async send(message) {
        tally.attempted += 1;
        const outcome = await inner.send(message);
        if (outcome.status === 'sent') tally.accepted += 1;
        else if (!isRecipientRefusal(outcome)) {
          tally.relayRefusals += 1;
          tally.firstRefusal ??= outcome;
        }
        return outcome;
      },
      close: () => inner.close(),
    },
    takeTally() {
      const taken = tally;
      tally = fresh();
      return taken;
    },
  };
}

/**
 * A refusal about one recipient (RFC 3463 class x.1.x addressing or x.2.x mailbox, answered to
 * RCPT TO or DATA): `550 5.1.1 no such user`, `552 5.2.2 mailbox full`. Those fail their row and
 * say nothing about the relay. Anything else (no connection, a refused login or sender, a relay
 * that denies relaying, 5.7.1) means no message could have gone.
 */
export function isRecipientRefusal(problem: SendProblem): boolean {
  // An address we could not put on the wire (nodemailer also says EENVELOPE for a server's reply).
  if (problem.code === 'EENVELOPE' && problem.responseCode === undefined) return true;
  if (problem.command !== undefined && !/^(RCPT|DATA)/i.test(problem.command)) return false;
  if (problem.responseCode === undefined) return false;
  const enhanced = /\b[245]\.([0-9]{1,3})\.[0-9]{1,3}\b/.exec(problem.response ?? '');
  return enhanced !== null && (enhanced[1] === '1' || enhanced[1] === '2');
}
