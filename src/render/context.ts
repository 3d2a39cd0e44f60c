import type { Sequence } from '../sequence/schema.js';
import type { TemplateContext } from '../sequence/template-model.js';

export interface ContextLearner {
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string;
  readonly role?: string | null | undefined;
  readonly organisation?: string | null | undefined;
}

export interface ContextManager {
  readonly name: string;
  readonly email: string;
}

/**
 * The template values for one learner in one week of a programme: exactly the variables of the
 * template model, with absent optional fields as '' (strict variables would otherwise stop the
 * email for a learner whose role is not known).
 */
export function templateContext(
  sequence: Pick<Sequence, 'id' | 'title' | 'weeks'>,
  weekNumber: number,
  learner: ContextLearner,
  manager: ContextManager | undefined,
): TemplateContext {
  const week = sequence.weeks.find((w) => w.week === weekNumber);
  return {
    learner: {
      first_name: learner.first_name,
      last_name: learner.last_name,
      email: learner.email,
      role: learner.role ?? '',
      organisation: learner.organisation ?? '',
    },
    manager: {
      name: manager?.name ?? '',
      first_name: manager?.name.split(/\s+/)[0] ?? '',
      email: manager?.email ?? '',
    },
    week: { number: weekNumber, theme: week?.theme ?? '', total: sequence.weeks.length },
    programme: { id: sequence.id, title: sequence.title },
  };
}
