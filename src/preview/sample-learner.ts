import { isValidZone } from '../planner/local-time.js';
import { parse } from 'yaml';
import { z } from 'zod';
import { GymError } from '../errors.js';
import type { ContextLearner, ContextManager } from '../render/context.js';

/** Who a trainer previews a programme as. */
export interface SampleLearner {
  readonly learner: ContextLearner & { readonly time_zone: string };
  readonly manager?: ContextManager | undefined;
  /** The first day of the programme; the coming Monday when absent. */
  readonly starts_on?: string | undefined;
}

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
    time_zone: z
      .string()
      .refine((zone) => isValidZone(zone), 'expected an IANA time zone such as Europe/London'),
  }),
  manager: z.strictObject({ name: z.string().min(1), email: z.email() }).optional(),
  starts_on: z.iso.date().optional(),
});

/**
 * Reads a sample learner file for `gym preview --learner` and `gym render --learner`:
 *
 * ```yaml
 * learner: { first_name: Sam, last_name: Taylor, email: sam@example.gov.uk, time_zone: Europe/London, role: press-officer }
 * manager: { name: Priya Shah, email: priya@example.gov.uk }
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
