import { describe, expect, it } from 'vitest';
import { sendingSchedule } from '../../src/planner/invite-lead.js';
import type { PlannedDelivery } from '../../src/planner/plan.js';

const row = (
  stepKey: string,
  week: number,
  kind: 'email' | 'invite',
  at: string,
): PlannedDelivery => ({
  stepKey,
  week,
  stepId: stepKey.slice(4),
  kind,
  dueAt: new Date(at),
  local: at.slice(0, 16),
  planned: at.slice(0, 16),
});

describe('when each step is sent', () => {
  it('sends an email at its moment, and an invite with the first step of its week, before its slot', () => {
    const schedule = sendingSchedule([
      row('w01-kickoff', 1, 'email', '2027-01-04T09:00:00Z'),
      row('w01-practice', 1, 'invite', '2027-01-06T14:00:00Z'),
      row('w01-nudge', 1, 'email', '2027-01-07T09:00:00Z'),
    ]);
    expect(
      schedule.map((d) => [d.stepKey, d.sendAt.toISOString(), d.startsAt?.toISOString()]),
    ).toEqual([
      ['w01-kickoff', '2027-01-04T09:00:00.000Z', undefined],
      ['w01-practice', '2027-01-04T09:00:00.000Z', '2027-01-06T14:00:00.000Z'],
      ['w01-nudge', '2027-01-07T09:00:00.000Z', undefined],
    ]);
  });

  it('sends an invite that opens its week with the step before it, and a first one a day ahead', () => {
    const schedule = sendingSchedule([
      row('w01-practice', 1, 'invite', '2027-01-04T08:00:00Z'),
      row('w01-kickoff', 1, 'email', '2027-01-04T09:00:00Z'),
      row('w02-practice', 2, 'invite', '2027-01-11T08:00:00Z'),
    ]);
    expect(schedule.map((d) => d.sendAt.toISOString())).toEqual([
      '2027-01-03T08:00:00.000Z',
      '2027-01-04T09:00:00.000Z',
      '2027-01-04T09:00:00.000Z',
    ]);
    expect(schedule.every((d) => d.startsAt === undefined || d.sendAt < d.startsAt)).toBe(true);
  });
});
