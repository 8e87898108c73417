// Prints the plain closing line `tests: N passed, N failed[, N skipped]` from vitest's
// JSON report, so that a reader of the log (CI included) sees how many tests ran
// without parsing vitest's coloured summary. Exits 1 when the report is missing or
// counts no test at all: a green run that executed nothing is not a pass.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`test-summary: no vitest report at ${file}: ${err.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const files = Array.isArray(report.testResults) ? report.testResults.length : 0;
console.log(`test files: ${files}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (passed + failed === 0) {
  console.error('test-summary: the run executed no test');
  process.exit(1);
}
