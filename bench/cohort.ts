/**
 * A synthetic cohort for the benchmark, as the CSV text a trainer would import: `count` learners
 * across several zones, roles (so all three shipped programmes match someone) and organisations,
 * about ten learners per manager, everyone starting on `startsOn` (a Monday).
 */

const zones = [
  'Europe/London',
  'Europe/Dublin',
  'Europe/Berlin',
  'America/New_York',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Australia/Sydney',
] as const;

/** Roles, and the programme each one gets (priority order in the shipped sequences). */
const roles = [
  'press-officer', // social-media-for-comms
  'communications-officer',
  'policy-officer', // digital-engagement-for-policy
  'analyst',
  'library-assistant', // digital-foundations (the default)
  'housing-officer',
] as const;

const organisations = [
  'Foreign, Commonwealth & Development Office',
  'Department for Business and Trade',
  'Cardiff Council',
  'HM Revenue & Customs',
  'Leeds City Council',
] as const;

const firstNames = ['Priya', 'Tom', 'Siobhán', 'Aisha', 'Daniel', 'James', 'Gareth', 'Fiona'];
const lastNames = ['Sharma', 'Fletcher', "O'Brien", 'Khan', 'Evans', 'Okafor', 'Jones', 'Campbell'];
const barriers = ['locked-down-it', 'no-time', 'fear-of-mistakes', 'impartiality-worries', ''];
const goals = ['respond-faster', 'build-audience', 'short-video', 'plan-content', ''];

const header =
  'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,cohort,confidence,barriers,goals,share_with_manager';

/** A CSV value, quoted when it must be. */
function csv(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface CohortSummary {
  readonly zones: number;
  readonly roles: number;
  readonly managers: number;
}

/** The CSV text of `count` learners; `tag` keeps addresses unique across several cohorts. */
export function cohortCsv(
  count: number,
  startsOn: string,
  tag: string,
): { text: string; summary: CohortSummary } {
  const lines = [header];
  const managers = new Set<string>();
  for (let i = 0; i < count; i++) {
    const team = Math.floor(i / 10);
    const zone = zones[team % zones.length]!;
    const role = roles[i % roles.length]!;
    const organisation = organisations[team % organisations.length]!;
    const first = firstNames[i % firstNames.length]!;
    const last = lastNames[(i >> 3) % lastNames.length]!;
    const managerEmail = `manager${team}.${tag}@bench.example.gov.uk`;
    managers.add(managerEmail);
    lines.push(
      [
        `learner${i}.${tag}@bench.example.gov.uk`,
        first,
        last,
        zone,
        role,
        organisation,
        managerEmail,
        `Manager ${team}`,
        startsOn,
        `bench-${tag}`,
        String((i % 5) + 1),
        barriers[i % barriers.length]!,
        goals[(i >> 1) % goals.length]!,
        i % 2 === 0 ? 'yes' : 'no',
      ]
        .map(csv)
        .join(','),
    );
  }
  return {
    text: `${lines.join('\n')}\n`,
    summary: { zones: zones.length, roles: roles.length, managers: managers.size },
  };
}
