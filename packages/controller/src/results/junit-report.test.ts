import { describe, expect, it } from 'vitest';
import { parseThreshold, type Threshold } from '@userprobe/shared';
import { summarizeRun } from '../run/summary.js';
import { judgeThresholds } from '../run/thresholds.js';
import { junitSchemaErrors } from '../../test/junit/validate-junit.js';
import { junitReport, type JunitInput } from './junit-report.js';

const t = (expr: string): Threshold => (parseThreshold(expr) as { ok: Threshold }).ok;

function input(over: Partial<JunitInput> = {}): JunitInput {
  const base = summarizeRun({
    runId: 'r-1',
    scenario: 'chat-load',
    browser: 'shell',
    expectedSessions: 3,
    agents: [{ agentId: 'a1', name: 'local-1', location: 'local' }],
    samples: [{ agentId: 'a1', sessionId: 's1', metric: 'api_create', value: 900 }],
    sessions: [
      { agentId: 'a1', sessionId: 's1', status: 'ok', failedStep: null },
      { agentId: 'a1', sessionId: 's2', status: 'failed', failedStep: 'widget_load' },
      { agentId: 'a1', sessionId: 's3', status: 'aborted', failedStep: null },
    ],
  });
  const summary = { ...base, thresholds: judgeThresholds(base, [t('api_create:p95<800ms'), t('api_create:max<2s')]) };
  return {
    summary,
    runError: null,
    unsuccessful: [
      {
        agentId: 'a1',
        sessionId: 's2',
        status: 'failed',
        failedStep: 'widget_load',
        error: { code: 'E_STEP_TIMEOUT', message: 'step "widget_load" did not finish within 4000 ms <selector #chat & co>' },
        startedAt: '2026-11-29T10:00:00.000Z',
        endedAt: '2026-11-29T10:00:04.500Z',
        artifacts: ['evidence/s2/visitor.png'],
      },
      {
        agentId: 'a1',
        sessionId: 's3',
        status: 'aborted',
        failedStep: null,
        error: { code: 'E_ABORTED', message: 'run aborted' },
        startedAt: '2026-11-29T10:00:01.000Z',
        endedAt: '2026-11-29T10:00:02.000Z',
        artifacts: [],
      },
    ],
    agentNames: new Map([['a1', 'local-1']]),
    startedAt: '2026-11-29T10:00:00.123Z',
    durationS: 12.5,
    hostname: 'ci-runner',
    ...over,
  };
}

describe('junitReport', () => {
  it('one case for the run, one per threshold, one per unsuccessful session; valid against the JUnit schema', async () => {
    const xml = junitReport(input());
    expect(await junitSchemaErrors(xml)).toEqual([]);
    expect(xml).toContain('<testsuites name="userprobe" tests="5" failures="2" errors="0" skipped="1" time="12.500">');
    expect(xml).toContain('timestamp="2026-11-29T10:00:00" hostname="ci-runner"');
    expect(xml).toContain('<testcase classname="userprobe.run" name="run completed" time="12.500"></testcase>');
    expect(xml).toMatch(
      /<testcase classname="userprobe.thresholds" name="api_create:p95&lt;800ms" time="0.000">\s*<failure message="FAIL {2}api_create:p95&lt;800ms {2}p95 900 ms over 1 value\(s\)" type="threshold">/,
    );
    expect(xml).toContain('<testcase classname="userprobe.thresholds" name="api_create:max&lt;2s" time="0.000"></testcase>');
    expect(xml).toMatch(
      /<testcase classname="userprobe.sessions" name="s2 on local-1" time="4.500">\s*<failure message="step widget_load: step &quot;widget_load&quot; did not finish within 4000 ms &lt;selector #chat &amp; co&gt;" type="E_STEP_TIMEOUT">/,
    );
    expect(xml).toContain('evidence: evidence/s2/visitor.png');
    expect(xml).toMatch(/name="s3 on local-1" time="1.000">\s*<skipped message="run aborted"\/>/);
  });

  it('a run error fails the run case; the report stays valid with hostile text', async () => {
    const xml = junitReport(input({ runError: { code: 'E_AGENTS_MISSING', message: 'lost agent "x"\u0000 ]]> <b>' }, hostname: 'host' }));
    expect(await junitSchemaErrors(xml)).toEqual([]);
    expect(xml).toMatch(/name="run completed" time="12.500">\s*<failure message="lost agent &quot;x&quot; \]\]&gt; &lt;b&gt;" type="E_AGENTS_MISSING">/);
  });

  it('the schema check is real: a report missing what readers need is refused', async () => {
    const xml = junitReport(input()).replace(/ timestamp="[^"]*"/, '');
    expect((await junitSchemaErrors(xml)).join('\n')).toContain("The attribute 'timestamp' is required");
    expect(await junitSchemaErrors('<testsuites><testsuite name="x"/></testsuites>')).not.toEqual([]);
  });
});
