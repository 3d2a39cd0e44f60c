import { isValidZone } from '../planner/local-time.js';
import { parse } from 'yaml';
import { z } from 'zod';
import { checkSlugList, fieldName } from '../enrol/profile.js';
import { GymError } from '../errors.js';
import type { ContextLearner, ContextManager } from '../render/context.js';

/**
 * Who a trainer previews or simulates a programme as: every profile field a matcher rule can
 * read (role, organisation, confidence, barriers, goals, share_with_manager, cohort, and free
 * fields such as `pay_band`), so that `gym simulate` can try every rule of every programme.
 */
export interface SampleLearner {
  readonly learner: ContextLearner & {
    readonly time_zone: string;
    /** 1 to 5, as in a cohort file. */
    readonly confidence?: number | undefined;
    /** Slugs, as a list or as a cohort file writes them (`locked-down-it; no-time`). */
    readonly barriers?: readonly string[] | undefined;
    readonly goals?: readonly string[] | undefined;
    readonly share_with_manager?: boolean | undefined;
    readonly cohort?: string | undefined;
    /** Free profile fields, by their column name: `{ pay_band: HEO }`. */
    readonly fields?: Readonly<Record<string, string>> | undefined;
  };
  readonly manager?: (ContextManager & { readonly time_zone?: string | undefined }) | undefined;
  /** The first day of the programme; the coming Monday when absent. */
  readonly starts_on?: string | undefined;
}

const zone = z
  .string()
  .refine((value) => isValidZone(value), 'expected an IANA time zone such as Europe/London');

/** A list of slugs, written as a YAML list or as one `;`-separated text, checked as enrolment does. */
const slugs = z.union([z.array(z.string()), z.string()]).transform((value, ctx) => {
  const checked = checkSlugList(Array.isArray(value) ? value.join(';') : value);
  if (checked.ok) return checked.value;
  ctx.addIssue({ code: 'custom', message: checked.reason });
  return z.NEVER;
});

const yesNo = z.union([z.boolean(), z.enum(['yes', 'no']).transform((value) => value === 'yes')]);

export const defaultSample: SampleLearner = {
  learner: {
    first_name: 'Sam',
    last_name: 'Taylor',
    email: 'sam.taylor@example.gov.uk',
    role: 'press-officer',
    organisation: 'Eastmoor District Council',
    time_zone: 'Europe/London',
  },
  manager: { name: 'Priya Shah', email: 'priya.shah@example.gov.uk' },
};

const sampleSchema = z.strictObject({
  learner: z.strictObject({
    first_name: z.string().min(1),
    last_name: z.string().min(1),
    email: z.email(),
    role: z.string().optional(),
    organisation: z.string().optional(),
    time_zone: zone,
    confidence: z.number().int().min(1).max(5).optional(),
    barriers: slugs.optional(),
    goals: slugs.optional(),
    share_with_manager: yesNo.optional(),
    cohort: z.string().min(1).optional(),
    fields: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .transform((fields) =>
        Object.fromEntries(
          Object.entries(fields).map(([name, value]) => [fieldName(name), String(value)]),
        ),
      )
      .optional(),
  }),
  manager: z
    .strictObject({ name: z.string().min(1), email: z.email(), time_zone: zone.optional() })
    .optional(),
  starts_on: z.iso.date().optional(),
});

/**
 * Reads a sample learner file for `gym preview --learner` and `gym render --learner`:
 *
 * ```yaml
 * learner: { first_name: Sam, last_name: Taylor, email: sam@example.gov.uk, time_zone: Europe/London, role: press-officer,
 *            confidence: 2, barriers: [locked-down-it], fields: { pay_band: HEO } }
 * manager: { name: Priya Shah, email: priya@example.gov.uk, time_zone: Europe/London }
 * starts_on: 2027-01-04
 * ```
 */
export function parseSampleLearner(text: string, file: string): SampleLearner {
  let data: unknown;
  try {
    data = parse(text);
  } catch (cause) {
    throw new GymError(
      'USAGE',
      `${file}: not valid YAML: ${(cause as Error).message.split('\n')[0]}`,
      { file },
      { cause },
    );
  }
  const result = sampleSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`,
  );
  throw new GymError('USAGE', `${file}: not a sample learner: ${problems.join('; ')}`, {
    file,
    problems,
  });
}
