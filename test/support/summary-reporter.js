// Writes the run's counts to a small JSON file so that CI can close with one line
// `tests: N passed, N failed`. A suite that fails to run at all (a syntax error, a failed
// global setup) counts as one failure: a run must never look green because nothing ran.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export default class SummaryReporter {
  constructor(_globalConfig, options = {}) {
    this.file = options.file ?? '.tmp/test-summary.json';
  }

  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suites: results.numTotalTestSuites,
    };
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(summary)}\n`);
  }
}
