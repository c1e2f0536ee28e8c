import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROM_METRICS } from '../src/api/prometheus-catalog.js';
import { parseExposition, type Exposition } from './exposition.js';
import { DEMO_AGENT_TRUST, agentToken, tempDir } from './fixtures.js';
import { AGENT_CLI, startCli, startNode, type Proc } from './processes.js';

/*
 * `GET /metrics` of a real `controller serve --config` (the built CLI),
 * scraped over HTTP the way Prometheus does. The config's check measures from
 * a location no agent has, so every round is a cheap `gap` (no browser), one
 * a second, and the alert engine calls the location dark; one real agent
 * process joins another location and leaves.
 */
const MASTER = 'prometheus-e2e-master-secret';
const OPERATOR = 'prometheus-e2e-operator-token';
const ROUNDS = PROM_METRICS.rounds.name;
const GAP = { check: 'chat', location: 'nowhere', status: 'gap' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(p: Proc): Proc {
  cleanups.push(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  });
  return p;
}

/** The stderr line the daemon prints for each of the check's gap rounds, `n` times. */
const gapRounds = (n: number) => new RegExp(`(?:^round chat nowhere \\S+Z: gap: no agent in nowhere\\n[\\s\\S]*?){${n}}`, 'm');

describe('GET /metrics on controller serve --config', () => {
  it('answers Prometheus with the operator token only: rounds growing, the dark alert firing, agents by location, process metrics', async () => {
    const tmp = await tempDir('userprobe-prometheus-');
    cleanups.push(tmp.cleanup);
    const monitor = join(tmp.dir, 'monitor.yaml');
    await writeFile(monitor, 'checks:\n  - name: chat\n    scenario: chat-load\n    target: demo\n    interval: 1s\n    locations: { region: [nowhere] }\n');
    const serve = track(
      startCli(['serve', '--config', monitor, '--host', '127.0.0.1', '--port', '0', '--out', join(tmp.dir, 'results')], {
        PROBE_TOKEN: MASTER,
        PROBE_OPERATOR_TOKEN: OPERATOR,
      }),
    );
    const [, url] = await serve.waitFor(/controller listening on (http:\/\/127\.0\.0\.1:\d+)/, 'stdout');
    const metricsUrl = `${url!}/metrics`;
    const scrape = async (): Promise<Exposition> => {
      const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${OPERATOR}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parseExposition(await res.text());
    };

    for (const headers of [{}, { authorization: 'Bearer not-the-operator-token' }, { authorization: `Bearer ${MASTER}` }] as Record<string, string>[]) {
      const refused = await fetch(metricsUrl, { headers });
      expect(refused.status, JSON.stringify(headers)).toBe(401);
      expect(await refused.text()).not.toContain('userprobe_');
    }

    await serve.waitFor(gapRounds(2));
    const first = await scrape();
    const gaps = first.value(ROUNDS, GAP);
    expect(gaps, 'gap rounds of chat in nowhere').toBeGreaterThanOrEqual(2);
    expect(first.value(ROUNDS, { ...GAP, status: 'ok' })).toBe(0);
    expect(first.value(PROM_METRICS.runsInProgress.name, { kind: 'round' })).toBe(0);
    expect(first.value(PROM_METRICS.batches.name, { outcome: 'stored' })).toBe(0);
    expect(first.types.get(PROM_METRICS.agentsConnected.name)).toBe('gauge');
    expect(first.types.has(PROM_METRICS.mysqlSpool.name), 'no --db: no MySQL series').toBe(false);
    expect(first.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(first.value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    const started = first.value('process_start_time_seconds')!;
    expect(Math.abs(started - Date.now() / 1000)).toBeLessThan(120);

    await serve.waitFor(gapRounds(gaps! + 1));
    const second = await scrape();
    expect(second.value(ROUNDS, GAP)).toBeGreaterThan(gaps!);
    // The alert engine judged the earlier gaps (a second before this round's line): nowhere is dark, and firing.
    expect(second.value(PROM_METRICS.alertState.name, { check: 'chat', location: 'nowhere', kind: 'dark', metric: '' })).toBe(2);

    // One real agent joins ams3, then leaves: the location reads 1, then 0 (dark).
    const agent = track(
      startNode(
        AGENT_CLI,
        [`--controller=${url!}`, '--id=prom-ams3-1', '--name=prom-ams3-1', '--labels=region=ams3', `--spool=${join(tmp.dir, 'spool')}`, ...DEMO_AGENT_TRUST],
        { PROBE_TOKEN: agentToken('prom-ams3-1', MASTER) },
      ),
    );
    await serve.waitFor(/agent prom-ams3-1 connected \(prom-ams3-1, ams3\)/);
    expect((await scrape()).value(PROM_METRICS.agentsConnected.name, { location: 'ams3' })).toBe(1);
    agent.child.kill('SIGTERM');
    await serve.waitFor(/agent prom-ams3-1 disconnected/);
    expect((await scrape()).value(PROM_METRICS.agentsConnected.name, { location: 'ams3' })).toBe(0);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
