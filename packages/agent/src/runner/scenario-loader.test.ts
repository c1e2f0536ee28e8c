import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import { ERROR_CODES, ProbeError, ScenarioOptionsSchema, resolveProfile, type MetricName, type TargetProfile } from '@userprobe/shared';
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import type { Recorder, ScenarioContext } from './scenario-api.js';
import {
  describeValue,
  looksLikePath,
  pickScenarioExport,
  resolveScenario,
  scenarioShapeProblem,
  ScenarioLoadError,
  ScenarioNotAllowedError,
} from './scenario-loader.js';
import { chatLoad } from '../scenarios/index.js';

const EXAMPLE = fileURLToPath(new URL('../../../../profiles/examples/custom-scenario.mjs', import.meta.url));
const SHELL = '/usr/lib/chromium/chromium-headless-shell';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--site-per-process',
];

async function loadError(nameOrPath: string, dirs: readonly string[] = [tmpdir()]): Promise<ScenarioLoadError> {
  const e = await resolveScenario(nameOrPath, dirs).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ScenarioLoadError);
  expect((e as ProbeError).code).toBe(ERROR_CODES.SCENARIO_UNKNOWN);
  return e as ScenarioLoadError;
}

describe('scenario shape checks (pure)', () => {
  const table: Array<[string, unknown, string | undefined]> = [
    ['a scenario', { name: 'x', run: async () => undefined }, undefined],
    ['a function', () => undefined, 'it is a function'],
    ['no name', { run: () => undefined }, "its 'name' is missing"],
    ['numeric name', { name: 1, run: () => undefined }, "its 'name' is a number"],
    ['run not a function', { name: 'x', run: 'go' }, "its 'run' is a string"],
    ['null', null, 'it is null'],
  ];
  for (const [name, value, expected] of table) it(name, () => expect(scenarioShapeProblem(value)).toBe(expected));

  it('picks the default export first, then `scenario`', () => {
    expect(pickScenarioExport({ default: 1, scenario: 2 })).toEqual({ value: 1, from: 'default export' });
    expect(pickScenarioExport({ scenario: 2 })).toEqual({ value: 2, from: "export 'scenario'" });
    expect(pickScenarioExport({ other: 3 })).toBeUndefined();
  });

  it('tells names from paths', () => {
    for (const p of ['./x.mjs', 'x.js', '/abs/x', 'dir/x']) expect(looksLikePath(p), p).toBe(true);
    for (const n of ['chat-load', 'my-scenario']) expect(looksLikePath(n), n).toBe(false);
    expect(describeValue({ a: 1, b: 2 })).toBe('an object with keys a, b');
  });
});

describe('resolveScenario', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'userprobe-scenario-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds a built-in scenario by name first', async () => {
    expect(await resolveScenario('chat-load', [])).toBe(chatLoad);
  });

  it('refuses an unknown name, listing the built-ins and how to give a path', async () => {
    const e = await loadError('chat-lod');
    expect(e.message).toMatch(/unknown scenario 'chat-lod'; built in: chat-load.*path of a module/);
  });

  it('refuses a path with no file, naming it', async () => {
    const e = await loadError(join(dir, 'missing.mjs'));
    expect(e.message).toContain(`no scenario module at ${join(dir, 'missing.mjs')}`);
  });

  it('refuses a module of the wrong shape, saying what was found and what is accepted', async () => {
    const bad = join(dir, 'bad.mjs');
    await writeFile(bad, 'export default { name: "x", run: "not a function" };\n');
    const e = await loadError(bad);
    expect(e.message).toMatch(/the default export is not a scenario: its 'run' is a string; accepted: an ES module/);
    const none = join(dir, 'none.mjs');
    await writeFile(none, 'export const helper = 1;\n');
    expect((await loadError(none)).message).toMatch(/found exports helper but no default export or 'scenario' export/);
    const broken = join(dir, 'broken.mjs');
    await writeFile(broken, 'export default {\n');
    expect((await loadError(broken)).message).toMatch(/the module did not load \(.+\)/);
  });

  it('loads a module only from inside a --scenario-dir, by real path; without one, none at all (nothing is imported)', async () => {
    const marker = join(dir, 'imported');
    const allowed = join(dir, 'allowed');
    const outside = join(dir, 'outside');
    await mkdir(allowed);
    await mkdir(outside);
    const body = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); export default { name: 'm', run: async () => {} };\n`;
    await writeFile(join(outside, 'evil.mjs'), body);
    await writeFile(join(allowed, 'good.mjs'), 'export default { name: "good", run: async () => {} };\n');
    await symlink(join(outside, 'evil.mjs'), join(allowed, 'link.mjs'));
    const refused = async (path: string, dirs: readonly string[]): Promise<string> => {
      const e = await resolveScenario(path, dirs).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ScenarioNotAllowedError);
      expect((e as ProbeError).code).toBe(ERROR_CODES.NOT_ALLOWED);
      return (e as Error).message;
    };
    expect(await refused(join(outside, 'evil.mjs'), [allowed])).toMatch(
      /is outside the folders this agent loads scenario modules from \(.*allowed; --scenario-dir\)/,
    );
    expect(await refused(join(allowed, 'link.mjs'), [allowed])).toMatch(/\(really .*outside\/evil\.mjs\) is outside/);
    expect(await refused(join(allowed, '..', 'outside', 'evil.mjs'), [allowed])).toMatch(/is outside/);
    expect(await refused(join(allowed, 'good.mjs'), [])).toMatch(
      /this agent loads no scenario modules \(its operator allows a folder of them with --scenario-dir DIR\)/,
    );
    expect(await refused(join(`${allowed}-sibling`, 'x.mjs'), [allowed])).toBeTruthy();
    expect(existsSync(marker)).toBe(false);
    expect((await resolveScenario(join(allowed, 'good.mjs'), [allowed])).name).toBe('good');
  });
});

describe('the example custom scenario against the demo target', () => {
  let target: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let browser: Browser;
  let userDataDir = '';
  beforeAll(async () => {
    target = await startDemoTarget();
    demoProfile = (await resolveProfile('demo', target.vars)).profile;
    userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-custom-'));
    browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  });
  afterAll(async () => {
    await browser?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await target?.close();
  });

  it('loads by path and runs: records page_load and the visitor navigation, every step passes', async () => {
    const scenario = await resolveScenario(EXAMPLE, [dirname(EXAMPLE)]);
    expect(scenario.name).toBe('widget-open');
    const samples: Array<{ metric: MetricName; value: number }> = [];
    const steps: string[] = [];
    const recorder: Recorder = {
      async measure(step, fn) {
        steps.push(step);
        return fn();
      },
      value(metric, value) {
        samples.push({ metric, value });
      },
      note() {
        /* not stored */
      },
      doing() {
        /* said only by a failure */
      },
    };
    // The options agents get (every other one at its default, as an assignment fills them).
    const options = ScenarioOptionsSchema.parse({
      callDurationMs: 0,
      mirrorSamples: 1,
      har: 'off',
      stepTimeoutMs: 15_000,
      sessionTimeoutMs: 60_000,
      adaptiveStart: false,
    });
    const visitorCtx = await browser.createBrowserContext();
    const agentCtx = await browser.createBrowserContext();
    try {
      const ctx: ScenarioContext = {
        session: { runId: 'test', sessionId: 's1', scenario: 'chat-load' },
        pages: { visitor: await visitorCtx.newPage(), agent: await agentCtx.newPage() },
        profile: demoProfile,
        options,
        recorder,
        signal: new AbortController().signal,
        credential: (ref) => ref.default ?? '',
      };
      await scenario.run(ctx);
    } finally {
      await visitorCtx.close();
      await agentCtx.close();
    }
    expect(steps).toEqual(['page_load', 'widget_frame', 'widget_usable', 'open_chat']);
    expect(samples.map((s) => s.metric)).toEqual(['page_load', 'nav_ttfb_visitor', 'nav_dcl_visitor']);
    for (const s of samples) expect(s.value).toBeGreaterThan(0);
  });
});
