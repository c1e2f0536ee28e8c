import type { RunSummary } from '../run/summary.js';
import { thresholdLine } from '../run/thresholds.js';
import { xmlText } from './markup.js';
import type { SessionLine } from './run-folder.js';

/*
 * `controller run --junit FILE`: the run as a JUnit XML report, the format CI
 * systems (Jenkins, GitLab, GitHub Actions' test reporters, Azure) read: one
 * <testsuite> for the run; a test case "run completed" (fails when the run
 * could not run to the end), one per threshold (fails when it failed), one per
 * session that did not succeed (a failure, with its step, error code and
 * message; aborted sessions are skipped, with the reason). Passing sessions
 * are counted in the suite's properties, not listed: a 10,000-session run
 * stays a readable report. Pure; the caller writes the file.
 */

export interface JunitInput {
  readonly summary: RunSummary;
  /** The run's error (exit 3), or null. */
  readonly runError: { readonly code: string; readonly message: string } | null;
  /** Sessions that did not succeed (status failed or aborted). */
  readonly unsuccessful: readonly Pick<SessionLine, 'agentId' | 'sessionId' | 'status' | 'failedStep' | 'error' | 'startedAt' | 'endedAt' | 'artifacts'>[];
  readonly agentNames: ReadonlyMap<string, string>;
  /** When the run started (ISO 8601), and how long it took (s). */
  readonly startedAt: string;
  readonly durationS: number;
  readonly hostname: string;
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlText(String(v))}"`)
    .join('');

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

/** The report as XML text. Pure. */
export function junitReport(i: JunitInput): string {
  const s = i.summary;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  const failure = (message: string, type: string, body: string) => {
    failures++;
    return `      <failure${attrs({ message, type })}>${xmlText(body)}</failure>\n`;
  };
  const testcase = (classname: string, name: string, time: number, inner: string) =>
    `    <testcase${attrs({ classname, name, time: time.toFixed(3) })}>${inner ? `\n${inner}    ` : ''}</testcase>\n`;

  cases.push(
    testcase(
      'userprobe.run',
      'run completed',
      i.durationS,
      i.runError === null
        ? ''
        : failure(
            i.runError.message,
            i.runError.code,
            `${i.runError.code}: ${i.runError.message}\n${s.sessions.lost} session(s) lost, ${s.sessions.notRun} not run`,
          ),
    ),
  );
  for (const r of s.thresholds) {
    const line = thresholdLine(r);
    cases.push(testcase('userprobe.thresholds', r.threshold, 0, r.ok ? '' : failure(line, 'threshold', line)));
  }
  if (s.stoppedBy) {
    const line = thresholdLine(s.stoppedBy);
    cases.push(testcase('userprobe.thresholds', `${s.stoppedBy.threshold} (while running)`, 0, failure(`stopped the run early: ${line}`, 'threshold', line)));
  }
  for (const x of i.unsuccessful) {
    const name = `${x.sessionId} on ${i.agentNames.get(x.agentId) ?? x.agentId}`;
    const time = seconds(x.startedAt, x.endedAt);
    if (x.status === 'aborted') {
      skipped++;
      cases.push(testcase('userprobe.sessions', name, time, `      <skipped${attrs({ message: x.error?.message ?? 'aborted' })}/>\n`));
      continue;
    }
    const message = `step ${x.failedStep ?? '(unknown)'}: ${x.error?.message ?? 'failed'}`;
    const evidence = x.artifacts.length ? `\nevidence: ${x.artifacts.join(', ')}` : '';
    cases.push(testcase('userprobe.sessions', name, time, failure(message, x.error?.code ?? 'failed', `${message}${evidence}`)));
  }
  const tests = cases.length;
  const props = {
    runId: s.runId,
    scenario: s.scenario,
    browser: s.browser ?? '',
    sessionsPlanned: s.sessions.expected ?? '',
    sessionsOk: s.sessions.ok,
    sessionsFailed: s.sessions.failed,
    sessionsAborted: s.sessions.aborted,
  };
  const properties = Object.entries(props)
    .map(([name, value]) => `      <property${attrs({ name, value })}/>\n`)
    .join('');
  const suite = { name: `userprobe ${s.scenario} run ${s.runId}`, tests, failures, errors: 0, skipped, time: i.durationS.toFixed(3) };
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites${attrs({ name: 'userprobe', tests, failures, errors: 0, skipped, time: suite.time })}>\n` +
    `  <testsuite${attrs({ ...suite, timestamp: i.startedAt.replace(/\.\d+Z$|Z$/, ''), hostname: i.hostname })}>\n` +
    `    <properties>\n${properties}    </properties>\n` +
    cases.join('') +
    '  </testsuite>\n</testsuites>\n'
  );
}
