import { sql, type Kysely, type Transaction } from 'kysely';
import {
  addressFingerprint,
  normaliseAddress,
  type ConsentReader,
  type Suppression,
  type SuppressionHow,
  type SuppressionScope,
} from '../consent/suppression.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The active suppressions of some addresses (normalised here), for `suppressionFor`. With the
 * instance's secret, the suppressions of erased people are found too, by their fingerprint (see
 * `addressFingerprint`), and answered under the address asked about.
 */
export function consentReader(
  db: Db,
  options: { secret?: string | undefined } = {},
): ConsentReader {
  return {
    async suppressionsOf(addresses) {
      const normalised = [...new Set(addresses.map(normaliseAddress))];
      if (normalised.length === 0) return [];
      const byFingerprint = new Map(
        options.secret === undefined
          ? []
          : normalised.map((a) => [addressFingerprint(options.secret!, a), a] as const),
      );
      const rows = await db
        .selectFrom('suppressions')
        .select(['address', 'scope', 'how', 'created_at'])
        .where('address', 'in', [...normalised, ...byFingerprint.keys()])
        .where('lifted_at', 'is', null)
        .execute();
      return rows.map((r): Suppression => ({
        address: byFingerprint.get(r.address) ?? r.address,
        scope: r.scope,
        how: r.how,
        createdAt: r.created_at,
      }));
    },
  };
}

export interface SuppressInput {
  readonly address: string;
  readonly scope: SuppressionScope;
  readonly how: SuppressionHow;
  readonly detail?: string | undefined;
  readonly now: Date;
}

/**
 * Writes a person's "no". Idempotent: while an earlier no of the same scope is active it stays
 * (with its date and how), and this one is not added. The organisation is the learner's, when
 * the address is a learner's. Returns true when a new row was written.
 */
export async function suppress(db: Db, input: SuppressInput): Promise<boolean> {
  const address = normaliseAddress(input.address);
  const inserted = await db
    .insertInto('suppressions')
    .values({
      address,
      organisation_id: sql<
        string | null
      >`(select organisation_id from learners where email = ${address})`,
      scope: input.scope,
      how: input.how,
      detail: input.detail?.slice(0, 500) ?? null,
      created_at: input.now,
    })
    .onConflict((oc) => oc.columns(['address', 'scope']).where('lifted_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Lifts every active suppression of an address (`gym learner resubscribe`), recording who, when
 * and why; the rows stay as history. A learner or manager marked unsubscribed or bounced is
 * active again. Returns the suppressions lifted.
 */
export async function liftSuppressions(
  db: Db,
  input: { address: string; by: string; reason: string; now: Date; secret?: string | undefined },
): Promise<Suppression[]> {
  const address = normaliseAddress(input.address);
  // An erased person who comes back: their noes are kept under the address's fingerprint.
  const forms =
    input.secret === undefined ? [address] : [address, addressFingerprint(input.secret, address)];
  const lifted = await db
    .updateTable('suppressions')
    .set({ lifted_at: input.now, lifted_by: input.by, lifted_reason: input.reason })
    .where('address', 'in', forms)
    .where('lifted_at', 'is', null)
    .returning(['address', 'scope', 'how', 'created_at'])
    .execute();
  for (const table of ['learners', 'managers'] as const) {
    await db
      .updateTable(table)
      .set({ status: 'active', updated_at: input.now })
      .where('email', '=', address)
      .where('status', 'in', ['bounced', 'unsubscribed'])
      .execute();
  }
  return lifted.map((r) => ({
    address,
    scope: r.scope,
    how: r.how,
    createdAt: r.created_at,
  }));
}
