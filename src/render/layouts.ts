import { compileEmail, type CompiledEmail, type CompileOptions } from './email.js';
import { shippedLayoutSources } from './layout-files.js';

/** The emails that belong to no programme, compiled once per process. */
export interface CompiledLayouts {
  readonly acknowledgement: CompiledEmail;
  readonly managerDigest: CompiledEmail;
  readonly managerIntroduction: CompiledEmail;
  /** MJML warnings under 'soft' validation. */
  readonly warnings: readonly string[];
}

/**
 * Compiles the acknowledgement, manager-digest and manager-introduction emails (MJML runs here, once); fill them
 * with `renderAcknowledgement` and `renderManagerDigest`.
 */
export async function compileLayouts(options: CompileOptions = {}): Promise<CompiledLayouts> {
  const sources = options.layouts ?? (await shippedLayoutSources());
  const validation = options.validation ?? 'strict';
  const acknowledgement = await compileEmail(
    sources,
    'acknowledgement',
    {
      subject: '{{ ack.subject }}',
      preheader: '{{ ack.message }}',
      frame: {
        kicker: { html: '{{ ack.kicker }}', text: '{{ ack.kicker }}' },
        progress: true,
        stop: true,
        reason: {
          html: 'You are getting this because you replied to a Digital Gym email.',
          text: 'You are getting this because you replied to a Digital Gym email.',
        },
      },
      html: {},
      text: {},
    },
    'acknowledgement',
    validation,
  );
  const managerDigest = await compileEmail(
    sources,
    'manager-digest',
    {
      subject: 'Your team this fortnight: {{ digest.headline }}',
      preheader: '{{ digest.preheader }}',
      frame: {
        kicker: {
          html: 'Manager summary{% if digest.period != "" %} · {{ digest.period }}{% endif %}',
          text: 'Manager summary{% if digest.period != "" %} · {{ digest.period }}{% endif %}',
        },
        progress: false,
        stop: false,
        reason: {
          html: 'You are getting this because people you manage are on a Digital Gym programme.',
          text: 'You are getting this because people you manage are on a Digital Gym programme.',
        },
      },
      html: {},
      text: {},
    },
    'manager digest',
    validation,
  );
  const managerIntroduction = await compileEmail(
    sources,
    'manager-introduction',
    {
      subject: 'Your team is starting Digital Gym',
      preheader: '{{ intro.lead }}',
      frame: {
        kicker: { html: 'For managers', text: 'For managers' },
        progress: false,
        stop: false,
        reason: {
          html: 'You are getting this because people you manage are on a Digital Gym programme.',
          text: 'You are getting this because people you manage are on a Digital Gym programme.',
        },
      },
      html: {},
      text: {},
    },
    'manager introduction',
    validation,
  );
  return {
    acknowledgement,
    managerDigest,
    managerIntroduction,
    warnings: [
      ...acknowledgement.warnings,
      ...managerDigest.warnings,
      ...managerIntroduction.warnings,
    ],
  };
}
