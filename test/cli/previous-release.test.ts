import { describe, expect, it } from 'vitest';
import { choosePrevious, type LiveReleaseVersion } from '../../lib/cli/previous-release';
import { UserError } from '../../lib/errors';

const PARAM = '/greenlight/shop/production/live-release';
const at = (day: number): Date => new Date(Date.UTC(2026, 10, day));
const v = (version: number, release: string, day = version): LiveReleaseVersion => ({ version, release, changedAt: at(day) });

describe('choosePrevious', () => {
  it('picks the release before the live one, with when each went live', () => {
    expect(choosePrevious(PARAM, [v(1, 'r1'), v(2, 'r2'), v(3, 'r3')])).toEqual({
      live: 'r3',
      liveSince: at(3),
      previous: 'r2',
      previousSince: at(2),
    });
  });

  it('orders by version, whatever order the pages came in', () => {
    expect(choosePrevious(PARAM, [v(3, 'r3'), v(1, 'r1'), v(2, 'r2')]).previous).toBe('r2');
  });

  it('skips rewrites of the live release, such as a redeploy of the same release', () => {
    expect(choosePrevious(PARAM, [v(1, 'r1'), v(2, 'r2'), v(3, 'r2'), v(4, 'r2')])).toEqual({
      live: 'r2',
      liveSince: at(2),
      previous: 'r1',
      previousSince: at(1),
    });
  });

  it('after a rollback, the next rollback returns to the release rolled back from', () => {
    expect(choosePrevious(PARAM, [v(1, 'r1'), v(2, 'r2'), v(3, 'r1')]).previous).toBe('r2');
  });

  it('says so when nothing has gone live', () => {
    expect(() => choosePrevious(PARAM, [])).toThrow(UserError);
    expect(() => choosePrevious(PARAM, [])).toThrow(
      `nothing to roll back to: ${PARAM} does not exist, so no release has gone live here yet`,
    );
  });

  it('says so when only one release has ever served', () => {
    expect(() => choosePrevious(PARAM, [v(1, 'r1'), v(2, 'r1')])).toThrow(
      `nothing to roll back to: ${PARAM} has only ever held r1, so no earlier release has served here`,
    );
  });
});
