// Runs the longest files first, so that the run does not end with one long file on one core while
// the other waits. vitest's own order puts projects one after another and, without a results
// cache (a fresh clone), keeps each project in file order.
import * as path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { LONGEST_FIRST } from './tiers';

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = LONGEST_FIRST.indexOf(path.relative(this.ctx.config.root, spec.moduleId));
      return at === -1 ? LONGEST_FIRST.length : at;
    };
    // Array.prototype.sort is stable: files off the list keep vitest's order, after the listed ones.
    return ordered.sort((a, b) => rank(a) - rank(b));
  }
}
