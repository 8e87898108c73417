// vitest's default reporter without its closing summary block ("Test Files  56 passed",
// "Tests  607 passed", "Duration ..."). CI reads the last line of the log for the test
// counts, and a second, differently shaped summary before it reads like another runner's.
// The one closing line comes from scripts/test-summary.mjs. Failures, their errors and
// the per-file lines are printed as usual.
import { DefaultReporter } from 'vitest/reporters';

export default class FlintReporter extends DefaultReporter {
  reportTestSummary(files, _errors, _leakCount) {
    const seconds = ((performance.now() - (this.start ?? 0)) / 1000).toFixed(0);
    this.log(`\nvitest finished ${files.length} files in ${seconds}s (counts on the last line)`);
  }
}
