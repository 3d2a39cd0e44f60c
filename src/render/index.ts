/**
 * The renderer: MJML compiled once per layout and per step at load time, Liquid filled per
 * recipient. Load a programme with `compileProgramme`, the programme-less emails with
 * `compileLayouts`, then call the `render*` functions (synchronous, microseconds) per recipient.
 */
export {
  compileProgramme,
  renderInvite,
  renderManagerTips,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
  type CompiledProgramme,
  type ProgrammeEndSummary,
  type RenderedInvite,
} from './programme.js';
export { compileLayouts, type CompiledLayouts } from './layouts.js';
export { renderManagerIntroduction, type ManagerIntroduction } from './manager-introduction.js';
export { programmeCache } from './programme-cache.js';
export { renderAcknowledgement, type Acknowledgement } from './acknowledgement.js';
export {
  renderManagerDigest,
  type DigestFlag,
  type DigestFlagKind,
  type DigestLearner,
  type DigestOptions,
  type ManagerDigest,
} from './manager-digest.js';
export {
  layoutNames,
  mjmlRunCount,
  type CompileOptions,
  type CompiledEmail,
  type LayoutName,
  type LayoutSources,
  type RenderedEmail,
  type Validation,
} from './email.js';
export { defaultLayoutDir, readLayoutSources } from './layout-files.js';
export {
  actionReplies,
  mailtoLink,
  progressLine,
  replyMarker,
  type LearnerChrome,
  type Progress,
  type RecipientLinks,
} from './chrome.js';
