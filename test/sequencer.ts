// Runs the longest files first and the shortest last, so that the run does not end with one long
// file on one core while the other waits: the listed long files, then the other process-tier files,
// the synth files, and the fast tier's many small files, which fill the gaps at the end. vitest's own
// order puts projects in name order and, without a results cache (a fresh clone), keeps each
// project in file order.
import * as path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { LONGEST_FIRST } from './tiers';

export const PROJECT_ORDER: readonly string[] = ['slow', 'synth', 'fast-isolated', 'fast'];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const listed = LONGEST_FIRST.indexOf(path.relative(this.ctx.config.root, spec.moduleId));
      if (listed !== -1) return listed;
      const project = PROJECT_ORDER.indexOf(spec.project.name);
      return LONGEST_FIRST.length + (project === -1 ? PROJECT_ORDER.length : project);
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return ordered.sort((a, b) => rank(a) - rank(b));
  }
}
