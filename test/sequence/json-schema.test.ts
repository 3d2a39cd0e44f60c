import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  sequenceJsonSchema,
  sequenceJsonSchemaText,
  sequenceSchemaFile,
} from '../../src/sequence/json-schema.js';

describe('the JSON Schema for editors', () => {
  it('is committed exactly as the code generates it (run `npm run schema` after changing schema.ts)', () => {
    const committed = readFileSync(new URL(`../../${sequenceSchemaFile}`, import.meta.url), 'utf8');
    expect(committed).toBe(sequenceJsonSchemaText());
  });

  it('describes what trainers write: unknown keys refused, keys with defaults optional', () => {
    const schema = sequenceJsonSchema() as {
      $id: string;
      title: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    expect(schema.$id).toBe('urn:digital-gym:schemas:sequence');
    expect(schema.title).toBe('Digital Gym sequence file');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['id', 'title', 'audience', 'weeks']);
    expect(Object.keys(schema.properties)).toEqual([
      'id',
      'languages',
      'reviewed_by',
      'title',
      'summary',
      'trainer',
      'audience',
      'intake',
      'schedule',
      'weeks',
    ]);
  });

  it('lets every human text be a map by language, for a programme that declares languages (#15)', () => {
    type Text = { anyOf: Record<string, unknown>[] };
    type Node = { properties: Record<string, Node> } & Partial<Text> & { items: Node };
    const schema = sequenceJsonSchema() as unknown as Node;
    const subject = schema.properties.weeks!.items.properties.steps!.items.properties.email!
      .properties.subject as unknown as Text;
    expect(subject.anyOf[0]).toMatchObject({ type: 'string' });
    expect(subject.anyOf[1]).toMatchObject({
      type: 'object',
      properties: { cy: { type: 'string' }, en: { type: 'string' } },
      additionalProperties: false,
    });
    expect(schema.properties.title!.anyOf).toHaveLength(2);
  });
});
