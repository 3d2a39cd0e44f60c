import { isValidZone } from '../planner/local-time.js';
import { didYouMean } from '../sequence/did-you-mean.js';
import { fail, ok, quoted, type Checked } from './profile.js';

/**
 * Abbreviations people write in a time-zone column, and the zone they usually mean. They are
 * refused even where the runtime knows them, because they are traps: `GMT` never moves to
 * summer time, `EST` is fixed at UTC-5 all year, and `BST` is Bangladesh Standard Time.
 */
const abbreviations: Readonly<Record<string, string>> = {
  GMT: 'Europe/London',
  BST: 'Europe/London',
  GB: 'Europe/London',
  UK: 'Europe/London',
  IST: 'Europe/Dublin or Asia/Kolkata',
  WET: 'Europe/Lisbon',
  CET: 'Europe/Paris',
  CEST: 'Europe/Paris',
  EET: 'Europe/Athens',
  EST: 'America/New_York',
  EDT: 'America/New_York',
  CST: 'America/Chicago',
  CDT: 'America/Chicago',
  MST: 'America/Denver',
  MDT: 'America/Denver',
  PST: 'America/Los_Angeles',
  PDT: 'America/Los_Angeles',
  AEST: 'Australia/Sydney',
  AEDT: 'Australia/Sydney',
  NZST: 'Pacific/Auckland',
  NZDT: 'Pacific/Auckland',
};

// The runtime's list still uses some pre-2022 names (Asia/Calcutta, Europe/Kiev); people write
// the current ones, so those are offered too.
const currentNames = [
  'Asia/Kolkata',
  'Europe/Kyiv',
  'Asia/Kathmandu',
  'Asia/Yangon',
  'Asia/Ho_Chi_Minh',
  'America/Nuuk',
];

let zones: readonly string[] | undefined;

/** Every Region/City zone name the runtime knows, for exact-case lookups and suggestions. */
function knownZones(): readonly string[] {
  zones ??= [...currentNames, ...Intl.supportedValuesOf('timeZone')].filter(
    (zone, index, all) => zone.includes('/') && all.indexOf(zone) === index && isValidZone(zone),
  );
  return zones;
}

/**
 * A learner's IANA time zone. The spelling is made canonical (`europe/london` →
 * `Europe/London`); a typo, a bare city or an abbreviation is refused with the zone it most
 * likely meant: `"Europe/Londn" is not an IANA time zone (did you mean Europe/London?)`.
 * `UTC` is accepted for the rare learner who really wants it.
 */
export function checkTimeZone(text: string): Checked<string> {
  const name = text.trim();
  if (/^(etc\/)?utc$/i.test(name)) return ok('UTC');
  const abbreviation = abbreviations[name.toUpperCase()];
  if (abbreviation !== undefined)
    return fail(
      `${quoted(text)} is an abbreviation, not an IANA time zone (did you mean ${abbreviation}?)`,
    );
  const known = knownZones().find((zone) => zone.toLowerCase() === name.toLowerCase());
  if (known !== undefined) return ok(known);
  if (name.includes('/') && isValidZone(name)) return ok(name);
  const suggestion = (isValidZone(name) ? zoneOf(name) : undefined) ?? closestZone(name);
  const hint =
    suggestion === undefined
      ? 'expected Region/City, such as Europe/London'
      : `did you mean ${suggestion}?`;
  if (isValidZone(name))
    return fail(`${quoted(text)} is an old alias, not a Region/City time zone (${hint})`);
  return fail(`${quoted(text)} is not an IANA time zone (${hint})`);
}

/** The zone a misspelt zone or a bare city most likely means: `London` → `Europe/London`. */
function closestZone(name: string): string | undefined {
  const spelt = name.replace(/\s+/g, '_');
  const whole = didYouMean(spelt, knownZones());
  if (whole !== undefined) return whole;
  const city = spelt.split('/').at(-1) ?? spelt;
  const cities = knownZones().map((zone) => zone.split('/').at(-1) ?? zone);
  const closest = didYouMean(city, cities);
  return closest === undefined ? undefined : knownZones()[cities.indexOf(closest)];
}

/** The Region/City zone the runtime takes an old alias for: `Japan` → `Asia/Tokyo`. */
function zoneOf(alias: string): string | undefined {
  const zone = new Intl.DateTimeFormat('en-GB', { timeZone: alias }).resolvedOptions().timeZone;
  return zone.includes('/') ? zone : undefined;
}
