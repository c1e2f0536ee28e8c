import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { coreMetrics, parseThreshold, type Threshold } from '@userprobe/shared';
import { summarizeRun } from '../src/run/summary.js';
import { judgeThresholds } from '../src/run/thresholds.js';
import type { SampleLine, SessionLine } from '../src/results/run-folder.js';
import { tempDir } from './fixtures.js';
import { startCli } from './processes.js';

/*
 * The HTML report in real Chromium: `controller report RUN` on a run folder
 * (10 chat-load sessions over two agents and two locations, one failed with
 * evidence, some samples saturated, two thresholds), opened from disk with
 * the network off: every chart drawn (a time series and a histogram per core
 * metric), the session timeline with the failed session red and linked to its
 * evidence, the thresholds, no console error. The screenshot lands in
 * USERPROBE_REPORT_SCREENSHOT when set (the docs' picture is made that way).
 */

const SHELL = '/usr/lib/chromium/chromium-headless-shell';
const core = coreMetrics('chat-load');

async function writeRunFolder(out: string): Promise<string> {
  const runId = 'r-report';
  const dir = join(out, runId);
  await mkdir(join(dir, 'evidence', 's0007'), { recursive: true });
  const t0 = Date.parse('2026-11-29T10:00:00Z');
  const samples: SampleLine[] = [];
  const sessions: SessionLine[] = [];
  for (let i = 1; i <= 10; i++) {
    const sessionId = `s${String(i).padStart(4, '0')}`;
    const agentId = i % 2 ? 'ams3-1' : 'nyc1-1';
    const location = i % 2 ? 'ams3' : 'nyc1';
    const start = t0 + i * 1500;
    const failed = i === 7;
    const metrics = failed ? core.slice(0, 2) : core;
    metrics.forEach((metric, k) =>
      samples.push({
        runId,
        agentId,
        sessionId,
        scenario: 'chat-load',
        metric,
        value: 50 + k * 40 + i * 7,
        ts: new Date(start + 500 + k * 300).toISOString(),
        location,
        browser: 'shell',
        saturated: i > 8,
      }),
    );
    sessions.push({
      runId,
      agentId,
      location,
      sessionId,
      scenario: 'chat-load',
      browser: 'shell',
      status: failed ? 'failed' : 'ok',
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(start + 4000).toISOString(),
      failedStep: failed ? 'api_init' : null,
      error: failed ? { code: 'E_STEP_TIMEOUT', message: 'step "api_init" did not finish within 4000 ms' } : null,
      artifacts: failed ? ['evidence/s0007/visitor.png'] : [],
    });
  }
  await writeFile(join(dir, 'evidence', 's0007', 'visitor.png'), '');
  await writeFile(join(dir, 'samples.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  await writeFile(join(dir, 'sessions.jsonl'), sessions.map((s) => JSON.stringify(s)).join('\n') + '\n');
  const summary = summarizeRun({
    runId,
    scenario: 'chat-load',
    browser: 'shell',
    expectedSessions: 10,
    agents: [
      { agentId: 'ams3-1', name: 'ams3-1', location: 'ams3' },
      { agentId: 'nyc1-1', name: 'nyc1-1', location: 'nyc1' },
    ],
    samples,
    sessions,
  });
  const t = (e: string) => (parseThreshold(e) as { ok: Threshold }).ok;
  await writeFile(
    join(dir, 'summary.json'),
    JSON.stringify({ ...summary, thresholds: judgeThresholds(summary, [t('api_create:p95<800ms'), t('sessions:error-rate<5%')]) }),
  );
  await writeFile(
    join(dir, 'run.json'),
    JSON.stringify({ runId, params: { scenario: 'chat-load', total: 10, rampUpMs: 15000, thresholds: ['api_create:p95<800ms'] } }),
  );
  return dir;
}

describe('HTML report (controller report, real Chromium)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('renders every chart, the thresholds and the session timeline offline, with no console error', async () => {
    const tmp = await tempDir('userprobe-report-');
    cleanups.push(tmp.cleanup);
    const dir = await writeRunFolder(tmp.dir);
    const p = startCli(['report', dir]);
    expect(await p.exited, p.stderr()).toBe(0);
    expect(p.stdout().trim()).toBe(join(dir, 'report.html'));

    const browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ['--no-sandbox', '--disable-gpu'] });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
    // Nothing may leave the file: any request other than the file itself fails the test.
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().startsWith('file:')) void r.continue();
      else {
        problems.push(`network: ${r.url()}`);
        void r.abort();
      }
    });
    await page.goto(`file://${join(dir, 'report.html')}`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset['charts'] !== undefined, { timeout: 10_000 });

    const got = await page.evaluate(() => ({
      canvases: [...document.querySelectorAll('#charts canvas')].filter((c) => (c as HTMLCanvasElement).width > 0 && (c as HTMLCanvasElement).height > 0)
        .length,
      sections: [...document.querySelectorAll('#charts section.metric h3')].map((h) => h.textContent),
      bars: document.querySelectorAll('#timeline rect').length,
      red: document.querySelectorAll('#timeline rect[fill="#dc2626"]').length,
      evidence: [...document.querySelectorAll('#timeline a')].map((a) => a.getAttribute('href')),
      thresholds: [...document.querySelectorAll('.thresholds li')].map((li) => [li.className, li.textContent]),
      locations: [...document.querySelectorAll('h2')].map((h) => h.textContent),
    }));
    // A time series and a histogram per core metric with values (all 8 here).
    expect(got.sections).toEqual(core.map((m) => `${m} (ms)`));
    expect(got.canvases).toBe(2 * core.length);
    expect(got.bars).toBe(10);
    expect(got.red).toBe(1);
    expect(got.evidence).toEqual(['evidence/s0007/visitor.png']);
    expect(got.thresholds).toEqual([
      ['pass', expect.stringMatching(/^pass {2}api_create:p95<800ms {2}p95 \d+ ms over 7 value\(s\) \(2 saturated left out\)$/)],
      ['fail', 'FAIL  sessions:error-rate<5%  error-rate 10 % over 10 session(s)'],
    ]);
    expect(got.locations).toEqual(expect.arrayContaining(['Thresholds', 'Summary', 'Metrics over the run', 'Agents', 'Locations', 'Sessions', 'Parameters']));
    expect(problems).toEqual([]);
    const shot = process.env['USERPROBE_REPORT_SCREENSHOT'] ?? join(tmp.dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
  }, 60_000);
});
