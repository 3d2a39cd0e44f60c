/**
 * How much a recipient costs: filling a precompiled email versus running MJML for each one.
 * Not a test (timings drift between machines); run it by hand:
 *
 *   npx tsx test/render/measure.ts
 */
/* eslint-disable no-console -- a measurement script: printing the numbers is its job */
import mjml2html from 'mjml';
import {
  compileLayouts,
  compileProgramme,
  renderManagerDigest,
  renderStep,
  type CompiledProgramme,
} from '../../src/render/index.js';
import { sampleChrome, sampleContext, sampleSequence } from '../fixtures/sample-sequence.js';
import { team } from './digest-fixtures.js';

function perCall(label: string, runs: number, work: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(runs, 200); i++) work(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) work(i);
  const micros = Number(process.hrtime.bigint() - start) / 1000 / runs;
  console.log(`${label.padEnd(52)} ${micros.toFixed(1).padStart(9)} µs  (${runs} runs)`);
  return micros;
}

async function perCallAsync(
  label: string,
  runs: number,
  work: (i: number) => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < 5; i++) await work(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await work(i);
  const micros = Number(process.hrtime.bigint() - start) / 1000 / runs;
  console.log(`${label.padEnd(52)} ${micros.toFixed(1).padStart(9)} µs  (${runs} runs)`);
  return micros;
}

const compileStart = process.hrtime.bigint();
const programme: CompiledProgramme = await compileProgramme(sampleSequence(), {
  validation: 'soft',
  keepMjml: true,
});
console.log(
  `compileProgramme (24 emails, 2 more, 12 invites)        ${(Number(process.hrtime.bigint() - compileStart) / 1e6).toFixed(0)} ms`,
);

const step = programme.weeks.get(3)?.steps.get('kickoff');
if (step?.kind !== 'email') throw new Error('week 3 kickoff is not an email');
const context = (i: number) => sampleContext(3, { first_name: `Learner${i}` });

const fill = perCall('renderStep (Liquid fill: subject, preheader, HTML, text)', 20_000, (i) =>
  renderStep(programme, 3, 'kickoff', context(i), sampleChrome),
);
const mjml = await perCallAsync('mjml2html of the same step (what we avoid)', 100, (i) =>
  mjml2html(step.email.mjml.replace('{{ learner.first_name }}', `Learner${i}`), {
    validationLevel: 'soft',
    fonts: {},
    keepComments: false,
  }),
);
console.log(`mjml2html per recipient / fill per recipient            ${(mjml / fill).toFixed(0)}×`);

const layouts = await compileLayouts();
const digest = team(60);
perCall('renderManagerDigest (60 learners)', 2_000, () =>
  renderManagerDigest(layouts, digest, { replyAddress: 'digest+m1@gym.example.gov.uk' }),
);
const html = renderStep(programme, 3, 'kickoff', context(0), sampleChrome).html;
console.log(
  `step HTML size                                          ${(Buffer.byteLength(html) / 1024).toFixed(1)} KiB`,
);
