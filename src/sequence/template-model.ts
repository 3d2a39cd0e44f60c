/**
 * The variables a trainer may use in templates: `{{ learner.first_name }}`. Checked at
 * validate time so that a typo never reaches a learner; the renderer fills exactly these.
 */
export const templateModel = {
  learner: ['first_name', 'last_name', 'email', 'role', 'organisation'],
  manager: ['name', 'first_name', 'email'],
  week: ['number', 'theme', 'total'],
  programme: ['id', 'title'],
} as const satisfies Record<string, readonly string[]>;

export type TemplateObject = keyof typeof templateModel;

/** The values for one recipient and week. Learner-supplied values are escaped when rendered. */
export interface TemplateContext {
  learner: Record<(typeof templateModel.learner)[number], string>;
  manager: Record<(typeof templateModel.manager)[number], string>;
  week: { number: number; theme: string; total: number };
  programme: Record<(typeof templateModel.programme)[number], string>;
}
