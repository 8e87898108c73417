// Prints the plain closing line `N passed, N failed[, N skipped]` from vitest's JSON
// report, so that a reader of the log (CI included) sees how many tests ran without
// parsing vitest's coloured output. Nothing is printed after it. Exits 1 when the report
// is missing or counts no test at all: a green run that executed nothing is not a pass.
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
const none = passed + failed === 0;
process.stdout.write(`test-summary: ${files} test files${none ? '; the run executed no test' : ''}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
if (none) process.exit(1);
