import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { sequenceSchema } from './schema.js';

/**
 * A URN rather than a URL: the schema is not published anywhere yet. Editors find it through the
 * file path (see `description`), not through the id.
 */
export const sequenceSchemaId = 'urn:digital-gym:schemas:sequence';

/** Where the generated file is kept, relative to the project root. */
export const sequenceSchemaFile = 'schemas/sequence.schema.json';

/**
 * The JSON Schema of a sequence file, generated from `sequenceSchema` (the single definition of the
 * format) for editors to complete and check. It describes what a trainer writes (`io: 'input'`:
 * keys with defaults are optional); rules across keys, such as weeks 1 to 12 in order, are only
 * checked by `gym validate`.
 */
export function sequenceJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(sequenceSchema, { io: 'input' });
  return {
    $schema,
    $id: sequenceSchemaId,
    title: 'Digital Gym sequence file',
    description:
      'One 12-week programme. In VS Code (YAML extension), start the file with ' +
      '"# yaml-language-server: $schema=../schemas/sequence.schema.json"; run "gym validate" for every check.',
    ...rest,
  };
}

/**
 * The file's exact text: 2-space JSON and a final newline, laid out as Prettier lays out JSON
 * (a list of plain values on one line when it fits), so that `prettier --check` passes as is.
 */
export function sequenceJsonSchemaText(): string {
  return `${layout(sequenceJsonSchema(), '')}\n`;
}

const printWidth = 100;

function layout(value: unknown, indent: string, prefix = ''): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    const plain = value.every((item) => item === null || typeof item !== 'object');
    // `prefix` is what precedes the list on its line, such as `"enum": `, and a comma may follow.
    if (plain && indent.length + prefix.length + flat.length + 1 <= printWidth) return flat;
    return `[\n${value.map((item) => `${inner}${layout(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([key, item]) => {
    const start = `${JSON.stringify(key)}: `;
    return `${inner}${start}${layout(item, inner, start)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

// `npm run schema` (tsx src/sequence/json-schema.ts) rewrites the file; a test checks it is current.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL(`../../${sequenceSchemaFile}`, import.meta.url));
  writeFileSync(target, sequenceJsonSchemaText());
  process.stdout.write(`wrote ${sequenceSchemaFile}\n`);
}
