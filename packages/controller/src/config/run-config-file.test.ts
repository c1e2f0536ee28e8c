import { describe, expect, it } from 'vitest';
import { ConfigError } from '@userprobe/shared';
import { runConfigArgs, type RunFlagSpec } from './run-config-file.js';

const spec: RunFlagSpec = {
  known: ['scenario', 'total', 'rampUp', 'threshold', 'profileVar', 'adaptiveStart', 'json', 'target', 'token', 'db', 'config'],
  repeatable: new Set(['threshold', 'profileVar']),
};
const none = new Set<string>();

function problems(doc: unknown, given = none): string {
  try {
    runConfigArgs(doc, 'load.yaml', given, spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('runConfigArgs', () => {
  it.each([
    [{ scenario: 'chat-load', total: 20 }, none, ['--scenario', 'chat-load', '--total', '20']],
    [{ 'ramp-up': '60s' }, none, ['--ramp-up', '60s']],
    [{ rampUp: '60s' }, none, ['--ramp-up', '60s']],
    [{ json: true, 'adaptive-start': false }, none, ['--json', '--no-adaptive-start']],
    [{ threshold: ['api_create:p95<800ms', 'sessions:error-rate<2%'] }, none, ['--threshold', 'api_create:p95<800ms', '--threshold', 'sessions:error-rate<2%']],
    [{ threshold: 'api_create:p95<800ms' }, none, ['--threshold', 'api_create:p95<800ms']],
    // the command line wins for a single-valued flag, and adds to a repeatable one
    [{ total: 200, 'ramp-up': '2m' }, new Set(['total']), ['--ramp-up', '2m']],
    [{ threshold: ['a:p95<1'] }, new Set(['threshold']), ['--threshold', 'a:p95<1']],
    [{}, none, []],
  ])('%j (given %j) → %j', (doc, given, args) => {
    expect(runConfigArgs(doc, 'load.yaml', given, spec)).toEqual(args);
  });

  it('says every problem at once, each with its key, what was found and what is accepted', () => {
    const msg = problems({ thresholds: ['x'], total: [1, 2], scenario: null, 'profile-var': [], target: { a: 1 }, token: 's3cret', db: 'mysql://u:p@h/d' });
    expect(msg).toMatch(/^--config load\.yaml: 7 problem\(s\):\n/);
    expect(msg).toContain(
      '  - thresholds: not a flag of controller run (did you mean threshold?); accepted: scenario, total, ramp-up, threshold, profile-var, adaptive-start, json, target\n',
    );
    expect(msg).toContain('  - total: a list, but --total takes one value');
    expect(msg).toContain('  - scenario: no value is not accepted; write a value as on the command line (--scenario VALUE)');
    expect(msg).toContain('  - profile-var: an empty list is not accepted; write a value as on the command line (--profile-var VALUE), or a list of them');
    expect(msg).toContain('  - target: a mapping is not accepted');
    expect(msg).toContain('  - token: the master secret is read from PROBE_TOKEN, never from a file');
    expect(msg).toContain('  - db: the MySQL URL holds a password: it is read from PROBE_DB_URL');
    expect(msg).not.toContain('s3cret');
  });

  it.each([
    [null, 'found nothing'],
    [['scenario'], 'found a list'],
    ['chat-load', 'found a string'],
  ])('a document that is not a mapping (%j) is one problem: %s', (doc, found) => {
    expect(problems(doc)).toContain(`expected a mapping of run flags (e.g. "scenario: chat-load", "total: 20"); ${found}`);
  });

  it('a file cannot name another one', () => {
    expect(problems({ config: 'other.yaml' })).toContain('config: a run config file cannot name another one');
  });
});
