import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@userprobe/shared';
import { agentInLocation, ANY_LOCATION, loadMonitorConfig, locationsOf, parseMonitorConfig } from './monitor-config.js';

const PROFILES = fileURLToPath(new URL('../../../../profiles/', import.meta.url));

function problemsOf(raw: unknown): string {
  try {
    parseMonitorConfig(raw, '/etc/userprobe/monitor.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('monitor config', () => {
  it('accepts the shipped example and the local one, with their meaning', async () => {
    const ex = await loadMonitorConfig(`${PROFILES}monitor.example.yaml`);
    expect(ex.checks.map((c) => [c.name, c.scenario, c.intervalMs, locationsOf(c)])).toEqual([
      ['chat', 'chat-load', 300_000, ['ams3', 'nyc1', 'sgp1']],
      ['cobrowse', 'cobrowse', 600_000, ['ams3', 'nyc1']],
    ]);
    expect(ex.checks[0]!.target).toBe(`${PROFILES}tenant.yaml`);
    expect(ex.checks[0]!.run).toMatchObject({
      browser: 'shell',
      total: 1,
      options: { messages: 3, thinkTime: { minMs: 2000, maxMs: 2000 }, input: 'insert', sessionTimeoutMs: 120_000 },
    });
    expect(ex.loadTests).toBe('keep');
    expect(ex.retention).toEqual({ everyMs: 86_400_000, rawDays: 30 });
    expect(Object.isFrozen(ex.checks[0])).toBe(true);
    const local = await loadMonitorConfig(`${PROFILES}monitor.local.yaml`);
    expect(local.checks.map((c) => [c.name, c.target, locationsOf(c)])).toEqual([
      ['chat', 'demo', [ANY_LOCATION]],
      ['cobrowse', 'demo', [ANY_LOCATION]],
    ]);
  });

  it('lists every problem at once, each with where it is and what is accepted', () => {
    const msg = problemsOf({
      loadTests: 'stop',
      checks: [
        { name: 'Chat', scenario: 'chat', interval: '5m' },
        { name: 'ok', scenario: 'chat-load', interval: '500ms', locations: { region: ['a'], zone: ['b'] }, options: { port: 80, messages: 2 } },
        { name: 'ok', scenario: 'cobrowse', interval: '1m', options: { 'mirror-samples': 0 } },
        { name: 'x', scenario: 'cobrowse', interval: 'soon', colour: 'red' },
      ],
    });
    expect(msg).toContain('loadTests');
    // the top level is judged first; then the checks
    const checks = problemsOf({
      checks: [
        { name: 'Chat', scenario: 'chat', interval: '5m' },
        { name: 'ok', scenario: 'chat-load', interval: '500ms', locations: { region: ['a'], zone: ['b'] }, options: { port: 80, messages: 2 } },
        { name: 'ok', scenario: 'cobrowse', interval: '1m', options: { 'mirror-samples': 0 } },
        { name: 'x', scenario: 'cobrowse', interval: 'soon', colour: 'red' },
      ],
    });
    expect(checks).toMatch(/problem\(s\):/);
    for (const part of [
      'checks[0].name: a lower-case letter',
      'checks[0].scenario:',
      'checks[1].interval: 500ms is out of range; accepted: 1s to 24h',
      'checks[1].locations: one label names the locations, got region, zone',
      'checks[1].options: unknown option(s) port; accepted: messages, think-time',
      'checks[2].name: "ok" is used by another check',
      'checks[3]: unknown key(s) colour',
    ])
      expect(checks).toContain(part);
  });

  it("refuses a bad option value with the command line's own message, named without --", () => {
    const msg = problemsOf({ checks: [{ name: 'c', scenario: 'cobrowse', interval: '1m', options: { 'mirror-samples': 0 } }] });
    expect(msg).toMatch(/checks\[0\]\.options: mirror-samples: .*0/);
    expect(msg).not.toContain('--mirror-samples');
    const tt = problemsOf({ checks: [{ name: 'c', scenario: 'chat-load', interval: '1m', options: { 'think-time': 'often' } }] });
    expect(tt).toContain('think-time: "often" is not a duration');
  });

  it.each([
    ['no checks', {}, 'checks'],
    ['an empty list', { checks: [] }, 'at least one check'],
    [
      'an unknown top-level key',
      { checks: [{ name: 'c', scenario: 'cobrowse', interval: '1m' }], notify: {} },
      'unknown key(s) notify; accepted: loadTests, retention, alerts, checks',
    ],
    [
      'retention too often',
      { checks: [{ name: 'c', scenario: 'cobrowse', interval: '1m' }], retention: { every: '10s' } },
      'retention.every: 10s is too often',
    ],
  ])('%s', (_n, raw, part) => {
    expect(problemsOf(raw)).toContain(part);
  });

  it('resolves the same file to the same checks, so a reload changes only what changed', async () => {
    const a = await loadMonitorConfig(`${PROFILES}monitor.example.yaml`);
    const b = await loadMonitorConfig(`${PROFILES}monitor.example.yaml`);
    expect(JSON.stringify(b.checks)).toBe(JSON.stringify(a.checks));
  });

  it('reads files with clear errors', async () => {
    await expect(loadMonitorConfig('/nonexistent/monitor.yaml')).rejects.toThrow('--config /nonexistent/monitor.yaml: cannot read it (ENOENT)');
  });

  it('matches agents to locations by the label the check names', () => {
    const c = parseMonitorConfig({ checks: [{ name: 'c', scenario: 'cobrowse', interval: '1m', locations: { region: ['ams3', 'nyc1'] } }] }, '/m.yaml')
      .checks[0]!;
    expect(agentInLocation(c, { region: 'ams3' }, 'ams3')).toBe(true);
    expect(agentInLocation(c, { region: 'nyc1' }, 'ams3')).toBe(false);
    expect(agentInLocation(c, {}, 'ams3')).toBe(false);
    const any = parseMonitorConfig({ checks: [{ name: 'c', scenario: 'cobrowse', interval: '1m' }] }, '/m.yaml').checks[0]!;
    expect(agentInLocation(any, {}, ANY_LOCATION)).toBe(true);
  });
});
