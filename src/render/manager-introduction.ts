import { unsubscribeLink, type RecipientLinks } from './chrome.js';
import { fillEmail, type RenderedEmail } from './email.js';
import type { CompiledLayouts } from './layouts.js';

/** A manager's introduction, sent once before their first digest (#14). */
export interface ManagerIntroduction {
  manager: { firstName: string };
  /** Who they manage on a programme, and which one. */
  learners: { firstName: string; lastName: string; programmeTitle: string }[];
  /** The day of the first digest, on the manager's calendar ("Monday 4 January"); '' if unknown. */
  firstDigest: string;
}

/** Names listed in full; a large team is summed up after them, to keep the email short. */
const listed = 40;

const clip = (text: string, max: number) => {
  const flat = text.trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
};

/**
 * Fills a manager's introduction: what their people will do, what the digest is, and the one
 * thing a manager can do (protect the practice time).
 */
export function renderManagerIntroduction(
  layouts: CompiledLayouts,
  intro: ManagerIntroduction,
  links: RecipientLinks,
): RenderedEmail {
  const n = intro.learners.length;
  const people = n === 1 ? '1 person you manage is' : `${n} people you manage are`;
  const rest = n - listed;
  return fillEmail(layouts.managerIntroduction, {
    chrome: { unsubscribe: unsubscribeLink(links) },
    intro: {
      manager_first_name: clip(intro.manager.firstName, 40),
      lead: `${people} starting a Digital Gym programme: twelve weeks of small, practical steps in their inbox.`,
      learners: intro.learners.slice(0, listed).map((l) => ({
        name: clip(`${l.firstName} ${l.lastName}`, 80),
        programme: clip(l.programmeTitle, 100),
      })),
      not_shown: rest > 0 ? `and ${rest} more.` : '',
      first_digest: intro.firstDigest,
    },
  });
}
