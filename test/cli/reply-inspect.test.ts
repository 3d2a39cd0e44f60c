import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';
import { normalise, scoredCases } from '../inbound/corpus.js';

const fixtures = fileURLToPath(new URL('../fixtures/replies/', import.meta.url));
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as Record<
  string,
  {
    kind: string;
    text: string;
    intent: Record<string, unknown> | null;
    bounce?: { status: string; recipient: string };
    rsvp?: { uid: string; partstat: string; attendee: string };
  }
>;

interface Inspection {
  file: string;
  kind: string;
  text: string;
  intent: Record<string, unknown> | null;
  bounce?: { status: string; recipient: string | null };
  rsvp?: { uid: string; partstat: string; attendee: string | null };
}

const linesOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Inspection);

describe('gym reply inspect', () => {
  it('reads every kind of reply, from each client style, with no database', async () => {
    const files = readdirSync(fixtures)
      .filter((f) => f.endsWith('.eml'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(30);
    const result = await runGym([
      'reply',
      'inspect',
      '--json',
      ...files.map((f) => join(fixtures, f)),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const seen = linesOf(result.stdout);
    expect(seen).toHaveLength(files.length);
    for (const inspection of seen) {
      const name = inspection.file.split('/').at(-1)!;
      const want = expected[name]!;
      expect({ name, kind: inspection.kind }).toEqual({ name, kind: want.kind });
      expect({ name, text: normalise(inspection.text) }).toEqual({
        name,
        text: normalise(want.text),
      });
      expect({ name, intent: inspection.intent }).toEqual({ name, intent: want.intent });
      if (want.bounce)
        expect(inspection.bounce).toEqual({
          status: want.bounce.status,
          recipient: want.bounce.recipient,
        });
      if (want.rsvp) expect(inspection.rsvp).toEqual(want.rsvp);
    }
  });

  it('finds the visible text of at least 95% of the shared corpus, each body wrapped in an .eml', async () => {
    const { scored } = scoredCases();
    const dir = mkdtempSync(join(tmpdir(), 'gym-corpus-'));
    const files = await Promise.all(
      scored.map(async (entry, index) => {
        const raw = await new MailComposer({
          newline: 'windows',
          from: 'learner@example.test',
          to: 'progress@gym.example.test',
          subject: 'Re: Week 3',
          messageId: `<corpus-${index}@example.test>`,
          text: entry.body,
        })
          .compile()
          .build();
        const file = join(dir, `${String(index).padStart(3, '0')}.eml`);
        writeFileSync(file, raw);
        return file;
      }),
    );
    const result = await runGym(['reply', 'inspect', '--json', ...files]);
    expect(result.code).toBe(0);
    const seen = linesOf(result.stdout);
    const failing = scored.filter(
      (entry, index) => normalise(seen[index]!.text) !== normalise(entry.expected),
    );
    const rate = (scored.length - failing.length) / scored.length;
    // eslint-disable-next-line no-console -- the match rate is the figure the issue asks for
    console.log(
      `gym reply inspect: ${scored.length - failing.length}/${scored.length} corpus cases ` +
        `(${(rate * 100).toFixed(1)}%)${failing.length ? `; failing: ${failing.map((f) => f.name).join(', ')}` : ''}`,
    );
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });

  it('says how sure it is and which language the learner wrote in (#12)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-inspect-'));
    const write = async (name: string, text: string) => {
      const raw = await new MailComposer({
        from: 'Cerys Jones <cerys@example.org>',
        to: 'progress+t0k3n@gym.example',
        subject: 'Re: Week 3',
        inReplyTo: '<w3@gym.example>',
        date: new Date('2027-03-01T09:00:00Z'),
        text,
      })
        .compile()
        .build();
      writeFileSync(join(dir, name), raw);
      return join(dir, name);
    };
    const hedged = await write('hedged.eml', 'I think I might need to drop out, sorry.');
    const welsh = await write('welsh.eml', 'Oedwch am bythefnos os gwelwch yn dda.');
    const result = await runGym(['reply', 'inspect', '--json', hedged, welsh]);
    expect(result.code).toBe(0);
    const [first, second] = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({
      intent: { type: 'stop' },
      confidence: 'probable',
      language: 'en',
    });
    expect(second).toMatchObject({
      intent: { type: 'pause', weeks: 2 },
      confidence: 'clear',
      language: 'cy',
    });
    const human = await runGym(['reply', 'inspect', hedged]);
    expect(human.stdout).toContain('intent: stop (probable, en)');
  });

  it('says which file it cannot read, reads the others, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-inspect-'));
    const missing = join(dir, 'missing.eml');
    const good = join(fixtures, 'stop.eml');
    const result = await runGym(['reply', 'inspect', missing, good]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${missing}: cannot read it`);
    expect(result.stdout).toContain('intent: stop');
  });
});
