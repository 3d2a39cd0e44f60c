import { GymError } from '../errors.js';

/**
 * The port the dispatcher sends through. Composition happens before (`composeMessage`), so a
 * transport only moves finished bytes: the SMTP adapter to a relay, the Maildir adapter to
 * `.gym/outbox`. What happened is returned as data; a transport only throws on a bug (sending
 * after `close`).
 */
export interface MailTransport {
  /** For logs: `smtp relay.example.org:587 (pooled)` or `maildir /srv/gym/.gym/outbox`; no secrets. */
  readonly name: string;
  send(message: OutboundMessage): Promise<SendOutcome>;
  /** Waits for the sends in flight, then releases connections. */
  close(): Promise<void>;
}

export interface OutboundMessage {
  /** Envelope sender (SMTP `MAIL FROM`), a bare address: where bounces go. */
  readonly from: string;
  /** Envelope recipient (SMTP `RCPT TO`), a bare address. */
  readonly to: string;
  /** The composed RFC 5322 message, sent byte for byte (DKIM, when on, adds its header on top). */
  readonly raw: Buffer;
  /** The message's Message-ID, `<...>`: for logs and outcomes, it is already inside `raw`. */
  readonly messageId: string;
}

/**
 * - `sent`: the server (or the outbox) took the message; `response` is its reply, to keep.
 * - `retry`: a temporary problem (4xx, network, timeout, the outbox disk): try again later, see
 *   `backoff`.
 * - `failed`: the server refused this message for good (5xx): do not send it again.
 */
export type SendOutcome =
  | { readonly status: 'sent'; readonly response: string }
  | ({ readonly status: 'retry' } & SendProblem)
  | ({ readonly status: 'failed' } & SendProblem);

export interface SendProblem {
  /** One line for the row and the log: `RCPT TO: 550 5.1.1 no such user`. */
  readonly reason: string;
  /** The library's or the system's error code: `EENVELOPE`, `ECONNECTION`, `ENOSPC`... */
  readonly code?: string | undefined;
  /** The SMTP reply code, when the server answered. */
  readonly responseCode?: number | undefined;
  /** The server's reply as it sent it, when it answered. */
  readonly response?: string | undefined;
  /** The SMTP command the reply answered (`RCPT TO`, `DATA`...), when known. */
  readonly command?: string | undefined;
  /**
   * The relay said we send too fast (421, 452 or an enhanced status 4.7.x about rates): not the
   * message's fault, and a reason for every worker to slow down.
   */
  readonly throttled?: boolean | undefined;
}

/**
 * A transport from its `deliver` function: refuses sends after `close` (a bug, so it throws),
 * and lets `close` wait for the sends in flight before `release` frees the connections.
 */
export function closableTransport(
  name: string,
  deliver: (message: OutboundMessage) => Promise<SendOutcome>,
  release: () => void = () => {},
): MailTransport {
  const inFlight = new Set<Promise<SendOutcome>>();
  let closed = false;
  return {
    name,
    send(message) {
      if (closed) {
        throw new GymError('MAIL_INVALID', `send of ${message.messageId} after ${name} closed`, {
          messageId: message.messageId,
        });
      }
      const outcome = deliver(message);
      inFlight.add(outcome);
      void outcome.finally(() => inFlight.delete(outcome));
      return outcome;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      release();
    },
  };
}
