import { DateTime } from 'luxon';
import type { Sequence } from '../sequence/schema.js';

/**
 * `gym learner show`: one learner as a trainer needs them, computed from their stored record
 * (see `src/db/learner-record.ts`) and the programme versions they follow. Pure.
 */
export interface LearnerView {
  readonly address: string;
  readonly found: boolean;
  readonly profile:
    | {
        readonly name: string;
        readonly status: string;
        readonly zone: string;
        readonly role: string | null;
        readonly organisation: string | null;
        readonly manager: string | null;
        readonly fields: Record<string, unknown>;
      }
    | undefined;
  readonly programmes: readonly ProgrammeView[];
  readonly replies: readonly {
    readonly at: string;
    readonly kind: string;
    readonly intent: string | null;
    readonly text: string | null;
    readonly status: string;
    readonly outcome: string | null;
  }[];
  readonly flags: readonly string[];
  /** Answers to the welcome's intake questions, and what they did to the programme (#14 §2). */
  readonly intake: readonly {
    readonly at: string;
    readonly answers: string;
    readonly from: string | null;
    readonly to: string | null;
    readonly moved: boolean;
    readonly reason: string;
  }[];
}

export interface ProgrammeView {
  readonly programme: string;
  readonly title: string;
  readonly status: string;
  readonly startsOn: string;
  readonly pausedUntil: string | null;
  /** Why the matcher chose it (or why a trainer moved them). */
  readonly why: string;
  readonly sent: readonly TimelineEntry[];
  /** The next steps still to go, soonest first (at most `nextLimit`). */
  readonly next: readonly TimelineEntry[];
  /** Rows that ended without being sent: skipped, missed, cancelled, failed, with why. */
  readonly notSent: readonly TimelineEntry[];
}

export interface TimelineEntry {
  readonly at: string;
  readonly step: string;
  readonly kind: string;
  readonly status: string;
  readonly detail: string | null;
}

type Row = Record<string, unknown>;
const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));
const text = (value: unknown) => (typeof value === 'string' ? value : null);

/** The view of `record`; `programmes` maps a sequence version id to its definition. */
export function learnerView(
  record: {
    address: string;
    learner: Row | undefined;
    manager: Row | undefined;
    organisation: Row | undefined;
    enrolments: Row[];
    deliveries: Row[];
    replies: Row[];
    progressEvents: Row[];
    suppressions: Row[];
  },
  programmes: ReadonlyMap<number, Sequence>,
  options: { nextLimit?: number } = {},
): LearnerView {
  const { learner } = record;
  const profile =
    learner === undefined
      ? undefined
      : {
          name: `${String(learner.first_name)} ${String(learner.last_name)}`.trim(),
          status: String(learner.status),
          zone: String(learner.time_zone),
          role: text(learner.role),
          organisation: text(record.organisation?.name),
          manager:
            record.manager === undefined
              ? null
              : `${String(record.manager.name)} <${String(record.manager.email)}>`,
          fields: (learner.profile as Record<string, unknown> | undefined) ?? {},
        };
  const views = record.enrolments.map((enrolment): ProgrammeView => {
    const sequence = programmes.get(Number(enrolment.sequence_version_id));
    const rows = record.deliveries.filter((d) => d.enrolment_id === enrolment.id);
    const stepOf = (key: string) => {
      const week = Number(/^w(\d+)-/.exec(key)?.[1]);
      const id = key.replace(/^w\d+-/, '').replace(/\.(cancel|r\d+)$/, '');
      return sequence?.weeks.find((w) => w.week === week)?.steps.find((s) => s.id === id);
    };
    const entry = (d: Row, at: unknown, detail: string | null): TimelineEntry => ({
      at: iso(at),
      step: String(d.step_key),
      kind: d.method === 'CANCEL' ? 'withdrawal' : String(d.kind),
      status: String(d.status),
      detail,
    });
    const byTime = (a: TimelineEntry, b: TimelineEntry) => a.at.localeCompare(b.at);
    const waitingOn = (d: Row) => {
      const when = stepOf(String(d.step_key))?.when;
      if (when?.not_done !== undefined) return `only if ${when.not_done} is not done by then`;
      if (when?.done !== undefined) return `only once ${when.done} is done`;
      return null;
    };
    return {
      programme: sequence?.id ?? String(enrolment.programme),
      title: sequence?.title ?? String(enrolment.programme),
      status: String(enrolment.status),
      startsOn: String(enrolment.starts_on).slice(0, 10),
      pausedUntil:
        enrolment.paused_until instanceof Date && enrolment.status === 'active'
          ? enrolment.paused_until.toISOString()
          : null,
      why: String(enrolment.match_reason),
      sent: rows
        .filter((d) => d.status === 'sent')
        .map((d) => entry(d, d.sent_at, text(d.message_id)))
        .sort(byTime),
      next: rows
        .filter((d) => d.status === 'pending' || d.status === 'claimed')
        .map((d) => entry(d, d.retry_at ?? d.due_at, waitingOn(d)))
        .sort(byTime)
        .slice(0, options.nextLimit ?? 5),
      notSent: rows
        .filter((d) => ['skipped', 'missed', 'cancelled', 'failed'].includes(String(d.status)))
        .map((d) => entry(d, d.updated_at, text(d.reason)))
        .sort(byTime),
    };
  });
  const flags: string[] = [];
  if (profile !== undefined && profile.status !== 'active') flags.push(`address ${profile.status}`);
  for (const s of record.suppressions) {
    if (s.lifted_at !== null && s.lifted_at !== undefined) continue;
    flags.push(
      `suppressed: ${String(s.scope)} (${String(s.how)}, ${iso(s.created_at).slice(0, 10)})`,
    );
  }
  for (const e of record.progressEvents) {
    if (e.kind !== 'too_hard' && e.kind !== 'help') continue;
    const data = e.data as Record<string, unknown>;
    flags.push(
      `${e.kind === 'too_hard' ? 'too hard' : 'asked for help'} in week ${String(data.week)} (${iso(e.occurred_at).slice(0, 10)})`,
    );
  }
  const bounces = record.replies.filter((r) => r.classification === 'bounce').length;
  if (bounces > 0) flags.push(`${bounces} bounce${bounces === 1 ? '' : 's'} received`);
  const held = record.replies.filter((r) => r.status === 'parked' || r.status === 'quarantined');
  if (held.length > 0) flags.push(`${held.length} held in gym inbox`);
  const intake = record.progressEvents
    .filter((e) => e.kind === 'intake')
    .map((e) => {
      const data = e.data as Record<string, unknown>;
      const answers = Array.isArray(data.answers)
        ? (data.answers as { field?: unknown; value?: unknown }[])
            .map((a) => `${String(a.field)} ${[a.value].flat().map(String).join(', ')}`)
            .join('; ')
        : '';
      return {
        at: iso(e.occurred_at),
        answers,
        from: text(data.from),
        to: text(data.to),
        moved: data.moved === true,
        reason: text(data.reason) ?? '',
      };
    });
  return {
    address: record.address,
    found: learner !== undefined,
    profile,
    intake,
    programmes: views,
    replies: record.replies.map((r) => {
      const summary = (r.summary as Record<string, unknown> | null) ?? {};
      const intent = summary.intent as { type?: unknown } | undefined;
      return {
        at: iso(r.received_at),
        kind: String(r.classification),
        intent: typeof intent?.type === 'string' ? intent.type : null,
        text: text(r.text),
        status: String(r.status),
        outcome: text(r.reason),
      };
    }),
    flags,
  };
}

/** The view as lines for a terminal, times on the learner's clock. */
export function formatLearnerView(view: LearnerView): string {
  if (view.profile === undefined)
    return `${view.address}: no learner at this address (erased, or never enrolled)\n`;
  const zone = view.profile.zone;
  const when = (at: string) =>
    DateTime.fromISO(at, { zone }).toFormat('ccc d LLL yyyy HH:mm', { locale: 'en-GB' });
  const p = view.profile;
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ');
  const lines = [
    `${p.name} <${view.address}> (${p.status})`,
    `  organisation ${p.organisation ?? '-'}; manager ${p.manager ?? '-'}; zone ${zone}; role ${p.role ?? '-'}`,
    ...(fields === '' ? [] : [`  profile      ${fields}`]),
    ...view.intake.map(
      (i) =>
        `  intake       ${when(i.at)}  ${i.answers}: ${i.moved ? `moved from ${i.from ?? '-'} to ${i.to ?? '-'}` : `kept ${i.from ?? '-'}`} (${i.reason})`,
    ),
  ];
  for (const programme of view.programmes) {
    lines.push(
      '',
      `${programme.title} (${programme.programme}), from ${programme.startsOn}: ${programme.status}` +
        `${programme.pausedUntil === null ? '' : `, paused until ${when(programme.pausedUntil)}`}`,
      `  why        ${programme.why}`,
    );
    for (const e of programme.sent) lines.push(`  sent       ${when(e.at)}  ${e.step} (${e.kind})`);
    // Rows ended together for one reason (a stop, a move) are one line.
    const groups = new Map<string, TimelineEntry[]>();
    for (const e of programme.notSent) {
      const key = `${e.status}\u0000${e.detail ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    for (const group of groups.values()) {
      const e = group[0]!;
      const steps =
        group.length === 1
          ? `${e.step} (${e.kind})`
          : `${group.length} steps, ${e.step} to ${group.at(-1)!.step}`;
      lines.push(`  ${e.status.padEnd(10)} ${when(e.at)}  ${steps}: ${e.detail ?? ''}`);
    }
    for (const e of programme.next)
      lines.push(
        `  next       ${when(e.at)}  ${e.step} (${e.kind})${e.detail === null ? '' : `, waiting on a condition: ${e.detail}`}`,
      );
  }
  if (view.replies.length > 0) {
    lines.push('', 'replies');
    for (const r of view.replies) {
      const words = r.text === null ? '' : ` "${r.text.replace(/\s+/g, ' ').slice(0, 80)}"`;
      lines.push(
        `  ${when(r.at)}  ${r.kind}${r.intent === null ? '' : `: ${r.intent}`}${words} -> ${r.status}${r.outcome === null ? '' : ` (${r.outcome})`}`,
      );
    }
  }
  lines.push('', `flags: ${view.flags.length === 0 ? 'none' : view.flags.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
