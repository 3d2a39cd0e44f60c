import { Liquid, LiquidError, type Variable } from 'liquidjs';
import { didYouMean } from './did-you-mean.js';
import { templateModel } from './template-model.js';

/** A mistake in one template: where in the text (0-based offset), the text there, and what is wrong. */
export interface TemplateProblem {
  offset: number;
  text: string;
  message: string;
}

// Parsing only: nothing is rendered and no file is read (partials are not analysed). Filters are
// strict so that `| upcase` misspelt is caught now; by default Liquid would skip it silently.
const liquid = new Liquid({ strictFilters: true });

const knownVariables = Object.entries(templateModel).flatMap(([object, fields]) =>
  fields.map((field) => `${object}.${field}`),
);

/**
 * Checks one Liquid template: it must parse, and every variable it reads must be one the renderer
 * fills (`templateModel`). Variables the template sets itself (`assign`, `for`) are fine.
 *
 * @example checkTemplate('Hi {{ learner.frist_name }}')
 * // [{ offset: 6, text: 'learner.frist_name', message: 'unknown variable learner.frist_name (did you mean learner.first_name?)' }]
 */
export function checkTemplate(template: string): TemplateProblem[] {
  let analysis;
  try {
    analysis = liquid.analyzeSync(liquid.parse(template), { partials: false });
  } catch (error) {
    if (!(error instanceof LiquidError))
      return [{ offset: 0, text: '', message: `template error: ${String(error)}` }];
    const offset = error.token.begin;
    return [
      {
        offset,
        text: template.slice(offset, error.token.end),
        message: describeLiquidError(error),
      },
    ];
  }
  return Object.values(analysis.globals)
    .flat()
    .flatMap((variable) => {
      const message = unknownVariableMessage(variable);
      if (message === undefined) return [];
      const offset = offsetOf(template, variable.location.row, variable.location.col);
      return [
        {
          offset,
          text: /^[\w.[\]"'-]+/.exec(template.slice(offset))?.[0] ?? variable.toString(),
          message,
        },
      ];
    })
    .sort((a, b) => a.offset - b.offset);
}

/** Why a variable is not one the renderer fills, or undefined when it is. */
function unknownVariableMessage(variable: Variable): string | undefined {
  const [object, field, ...deeper] = variable.segments;
  const name = variable.toString();
  const fields: readonly string[] | undefined =
    typeof object === 'string' && Object.hasOwn(templateModel, object)
      ? templateModel[object as keyof typeof templateModel]
      : undefined;
  // `.size` is Liquid's length of a text, as in {% if learner.role.size > 0 %}.
  const deeperOk = deeper.length === 0 || (deeper.length === 1 && deeper[0] === 'size');
  if (fields && typeof field === 'string' && fields.includes(field) && deeperOk) return undefined;
  if (fields && field === undefined) {
    return `${name} on its own is not a value; use one of ${fields.map((f) => `${name}.${f}`).join(', ')}`;
  }
  const guess = didYouMean(
    typeof field === 'string' ? `${String(object)}.${field}` : name,
    knownVariables,
  );
  if (guess) return `unknown variable ${name} (did you mean ${guess}?)`;
  const known = fields
    ? fields.map((f) => `${String(object)}.${f}`)
    : Object.keys(templateModel).map((o) => `${o}.*`);
  return `unknown variable ${name} (expected one of: ${known.join(', ')})`;
}

/** Liquid's messages end with its own `line:1, col:6`, which is relative to the template alone. */
function describeLiquidError(error: LiquidError): string {
  const message = error.message.replace(/, line:\d+, col:\d+$/, '');
  const unknownFilter = /^undefined filter: (.+)$/.exec(message);
  if (unknownFilter) {
    const guess = didYouMean(unknownFilter[1]!, Object.keys(liquid.filters));
    return `unknown filter "${unknownFilter[1]!}"${guess ? ` (did you mean ${guess}?)` : ''}`;
  }
  const unknownTag = /^tag "(.+)" not found$/.exec(message);
  if (unknownTag) {
    const name = unknownTag[1]!;
    return name.startsWith('end')
      ? `{% ${name} %} closes nothing; remove it or add the {% ${name.slice(3)} %} it closes`
      : `unknown tag {% ${name} %}`;
  }
  const notClosed = /^(tag|output) (.+) not closed$/.exec(message);
  if (notClosed) {
    const [, kind, text] = notClosed;
    // Quoted: the tag itself lacks its `%}` (or `}}`); bare: a block tag lacks its end tag.
    if (text!.startsWith('"'))
      return `${text!.slice(1, -1)} is not closed (expected ${kind === 'output' ? '}}' : '%}'})`;
    const tag = /^\{%-?\s*(\w+)/.exec(text!)?.[1] ?? '';
    return `${text!} has no matching {% end${tag} %}`;
  }
  return `template error: ${message}`;
}

/** Offset of a 1-based row and column. */
function offsetOf(text: string, row: number, col: number): number {
  let offset = 0;
  for (let line = 1; line < row; line++) offset = text.indexOf('\n', offset) + 1;
  return offset + col - 1;
}
