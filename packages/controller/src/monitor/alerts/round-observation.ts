import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoundReport } from '@userprobe/shared';
import { readJsonl } from '../../results/run-folder-reader.js';
import { RESULT_FILES, runDir, type SessionLine } from '../../results/run-folder.js';
import type { MetricSummary } from '../../run/summary.js';
import { thresholdStats } from '../../run/thresholds.js';
import type { RoundObservation } from './alert-engine.js';
import type { AlertPolicy, AlertSettings } from './alert-policy.js';

/**
 * What the alert engine needs from a round beyond its report, read from the
 * round's results folder: each metric's stat over the unsaturated samples
 * (summary.json, `thresholdStats`), the most common error of its failed
 * sessions and where the first one's evidence is.
 */
export async function observeRound(r: RoundReport, p: { outDir: string; policy: AlertPolicy; settings: AlertSettings }): Promise<RoundObservation> {
  const none: RoundObservation = { report: r, metrics: {}, topError: null, evidence: null, summary: null };
  if (r.runId === null || (r.status !== 'ok' && r.status !== 'failed')) return none;
  const dir = runDir(p.outDir, r.runId);
  const metrics: Record<string, number> = {};
  try {
    const summary = JSON.parse(await readFile(join(dir, RESULT_FILES.summary), 'utf8')) as { metrics?: MetricSummary[] };
    const stat = p.policy.latency?.stat ?? 'p95';
    // Samples taken while the agent was saturated are not judged (unless the rule says so): a busy agent, not the product.
    const includeSaturated = p.policy.latency?.includeSaturated ?? false;
    for (const m of summary.metrics ?? []) {
      const v = thresholdStats(m, { includeSaturated })[stat];
      if (v !== null && v !== undefined) metrics[m.metric] = v;
    }
  } catch {
    // No summary (the run ended without one): no latency verdict for this round.
  }
  let topError: RoundObservation['topError'] = null;
  let evidence: string | null = null;
  if (r.status === 'failed') {
    const sessions = await readJsonl<SessionLine>(join(dir, RESULT_FILES.sessions)).catch(() => [] as SessionLine[]);
    const failed = sessions.filter((s) => s.status === 'failed');
    const counts = new Map<string, number>();
    for (const s of failed) if (s.error) counts.set(s.error.message, (counts.get(s.error.message) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1])[0];
    if (top) topError = { message: top[0].slice(0, 500), count: top[1] };
    const withEvidence = failed.find((s) => s.artifacts.length > 0);
    if (withEvidence) {
      const rel = `${r.runId}/${withEvidence.artifacts[0]!.replace(/\/[^/]*$/, '/')}`;
      evidence = p.settings.evidenceUrl === null ? join(p.outDir, rel) : `${p.settings.evidenceUrl}/${rel}`;
    }
  }
  return { report: r, metrics, topError, evidence, summary: join(dir, RESULT_FILES.summary) };
}
