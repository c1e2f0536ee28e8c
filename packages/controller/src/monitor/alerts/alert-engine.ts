import type { RoundReport } from '@userprobe/shared';
import type { AlertKind, AlertPolicy, Severity } from './alert-policy.js';

/**
 * The alert engine's decisions: pure. Each alert — a check, a location (or
 * '*' across locations) and a kind (with a metric for latency) — moves
 * ok → pending → firing → resolved → ok. Rounds are judged as they are
 * recorded (failure, latency, dark); time passing is judged by `tick` (no
 * data). k of the last n judged rounds must be bad to fire (one spike is only
 * pending), `clearRounds` good ones in a row to resolve; an alert that fires
 * again within `flapWindowMs` of resolving is flapping and sends nothing new
 * until it settles. One notification per state change, and reminders while
 * firing. States survive restarts (alert-store.ts), so a restarted controller
 * neither forgets a firing alert nor announces it again.
 */
export const ALERT_STATES = ['ok', 'pending', 'firing', 'resolved'] as const;
export type AlertStateName = (typeof ALERT_STATES)[number];

export interface AlertState {
  readonly key: string;
  readonly check: string;
  readonly location: string;
  readonly kind: AlertKind;
  readonly metric: string | null;
  readonly state: AlertStateName;
  readonly severity: Severity | null;
  readonly since: number;
  readonly updatedAt: number;
  readonly lastNotifiedAt: number | null;
  /** The firing episode was announced (its resolution is announced too). */
  readonly announced: boolean;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly detail: string | null;
  readonly memory: AlertMemory;
}

export interface AlertMemory {
  /** The last n verdicts, newest last (true: bad). */
  readonly window: readonly boolean[];
  readonly goodStreak: number;
  readonly badStreak: number;
  /** Latency: recent good values (the baseline is their median). */
  readonly baseline: readonly number[];
  readonly lastResolvedAt: number | null;
  /** No data: when a round last started anywhere (or the engine first watched the check). */
  readonly lastStartedAt: number | null;
}

/** What one round showed, beyond its report: the metrics' stats over unsaturated samples, the most common error, evidence. */
export interface RoundObservation {
  readonly report: RoundReport;
  /** Per metric: the round's value of the policy's stat (unsaturated samples only); absent when the round had none. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly topError: { readonly message: string; readonly count: number } | null;
  /** Where a failed session's evidence is (a URL or the path on the controller). */
  readonly evidence: string | null;
  /** The summary.json of the round's run. */
  readonly summary: string | null;
}

export type NotificationKind = 'firing' | 'resolved' | 'reminder';

export interface Notification {
  readonly kind: NotificationKind;
  readonly alert: AlertState;
  /** What the round showed when this was decided (null for tick decisions). */
  readonly round: RoundObservation | null;
  readonly at: number;
}

export interface Decision {
  readonly state: AlertState;
  readonly notifications: readonly Notification[];
  readonly changed: boolean;
}

export function alertKey(check: string, location: string, kind: AlertKind, metric: string | null = null): string {
  return `${check}|${location}|${kind}|${metric ?? ''}`;
}

const EMPTY_MEMORY: AlertMemory = { window: [], goodStreak: 0, badStreak: 0, baseline: [], lastResolvedAt: null, lastStartedAt: null };

export function newAlert(check: string, location: string, kind: AlertKind, metric: string | null, now: number): AlertState {
  return {
    key: alertKey(check, location, kind, metric),
    check,
    location,
    kind,
    metric,
    state: 'ok',
    severity: null,
    since: now,
    updatedAt: now,
    lastNotifiedAt: null,
    announced: false,
    value: null,
    threshold: null,
    detail: null,
    memory: EMPTY_MEMORY,
  };
}

interface Verdict {
  readonly bad: boolean;
  readonly severity: Severity;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly detail: string;
}

/**
 * One verdict into an alert: the common state machine. `k`/`n`: bad verdicts
 * needed in the window to fire. Pure.
 */
export function judge(s: AlertState, v: Verdict, p: { k: number; n: number; policy: AlertPolicy; now: number; round: RoundObservation | null }): Decision {
  const { policy, now } = p;
  const window = [...s.memory.window, v.bad].slice(-p.n);
  const memory: AlertMemory = {
    ...s.memory,
    window,
    goodStreak: v.bad ? 0 : s.memory.goodStreak + 1,
    badStreak: v.bad ? s.memory.badStreak + 1 : 0,
  };
  const bads = window.filter(Boolean).length;
  const base = { ...s, memory, updatedAt: now, value: v.value, threshold: v.threshold };
  const notify = (kind: NotificationKind, st: AlertState): Notification => ({ kind, alert: st, round: p.round, at: now });
  switch (s.state) {
    case 'ok':
    case 'resolved':
    case 'pending': {
      if (bads >= p.k) {
        const flapping = s.memory.lastResolvedAt !== null && now - s.memory.lastResolvedAt < policy.flapWindowMs;
        const st: AlertState = {
          ...base,
          state: 'firing',
          severity: v.severity,
          since: now,
          detail: flapping
            ? `${v.detail} (flapping: fired again ${Math.round((now - s.memory.lastResolvedAt) / 1000)}s after resolving; no message until it settles)`
            : v.detail,
          announced: !flapping,
          lastNotifiedAt: flapping ? s.lastNotifiedAt : now,
        };
        return { state: st, notifications: flapping ? [] : [notify('firing', st)], changed: true };
      }
      if (v.bad) {
        const st: AlertState = { ...base, state: 'pending', severity: v.severity, since: s.state === 'pending' ? s.since : now, detail: v.detail };
        return { state: st, notifications: [], changed: s.state !== 'pending' };
      }
      const st: AlertState = { ...base, state: 'ok', severity: null, since: s.state === 'ok' ? s.since : now, detail: null };
      return { state: st, notifications: [], changed: s.state !== 'ok' };
    }
    case 'firing': {
      if (!v.bad && memory.goodStreak >= policy.clearRounds) {
        const st: AlertState = {
          ...base,
          state: 'resolved',
          since: now,
          detail: v.detail,
          memory: { ...memory, lastResolvedAt: now, window: [] },
          lastNotifiedAt: s.announced ? now : s.lastNotifiedAt,
          announced: s.announced,
        };
        return { state: st, notifications: s.announced ? [notify('resolved', st)] : [], changed: true };
      }
      const severity = v.bad && v.severity === 'failed' ? 'failed' : s.severity;
      const remind = v.bad && s.announced && policy.remindEveryMs !== null && s.lastNotifiedAt !== null && now - s.lastNotifiedAt >= policy.remindEveryMs;
      const st: AlertState = {
        ...base,
        severity,
        detail: v.bad ? v.detail : s.detail,
        lastNotifiedAt: remind ? now : s.lastNotifiedAt,
        value: v.bad ? v.value : s.value,
        threshold: v.bad ? v.threshold : s.threshold,
      };
      return { state: st, notifications: remind ? [notify('reminder', st)] : [], changed: remind || severity !== s.severity };
    }
  }
}

/** Failure: the round's share of failed sessions against the rule. Null: the round says nothing about it (a gap, a skip). */
export function failureVerdict(o: RoundObservation, share: number): Verdict | null {
  const r = o.report;
  if (r.status !== 'ok' && r.status !== 'failed') return null;
  const planned = Math.max(1, r.sessions.planned);
  const failedShare = r.sessions.failed / planned;
  const bad = r.status === 'failed' && failedShare >= share;
  const step = r.failedStep ? `, most at step ${r.failedStep.step} (${r.failedStep.count})` : '';
  const error = o.topError ? `; most common error (${o.topError.count}×): ${o.topError.message}` : '';
  return {
    bad,
    severity: r.sessions.ok === 0 ? 'failed' : 'degraded',
    value: failedShare,
    threshold: share,
    detail: bad ? `${r.sessions.failed} of ${r.sessions.planned} session(s) failed${step}${error}` : `${r.sessions.ok} of ${r.sessions.planned} session(s) ok`,
  };
}

/** Latency: a metric's value against the absolute limit and/or its baseline; null when the round has no value for it. */
export function latencyVerdict(o: RoundObservation, metric: string, s: AlertState, rule: NonNullable<AlertPolicy['latency']>): Verdict | null {
  if (o.report.status !== 'ok' && o.report.status !== 'failed') return null;
  const value = o.metrics[metric];
  if (value === undefined) return null;
  const baseline = s.memory.baseline.length >= rule.minBaseline ? median(s.memory.baseline) : null;
  const limits: number[] = [];
  if (rule.aboveMs !== null) limits.push(rule.aboveMs);
  if (rule.factor !== null && baseline !== null) limits.push(Math.max(baseline * rule.factor, baseline + rule.minDeltaMs));
  if (limits.length === 0)
    return {
      bad: false,
      severity: 'degraded',
      value,
      threshold: null,
      detail: `${metric} ${rule.stat} ${fmt(value)} (baseline forming: ${s.memory.baseline.length} of ${rule.minBaseline} rounds)`,
    };
  const threshold = Math.min(...limits);
  const bad = value > threshold;
  // Name the bar that applied: the factor, or the minimum excess where it is the larger (a fast metric's 2× is noise).
  const rounds = `the last ${s.memory.baseline.length} good rounds`;
  const against =
    baseline === null || rule.factor === null || threshold === rule.aboveMs
      ? `the limit ${fmt(threshold)}`
      : baseline * rule.factor < baseline + rule.minDeltaMs
        ? `${fmt(threshold)} (its baseline ${fmt(baseline)}, the median of ${rounds}, + ${fmt(rule.minDeltaMs)})`
        : `${rule.factor}× its baseline ${fmt(baseline)} (median of ${rounds})`;
  return { bad, severity: 'degraded', value, threshold, detail: `${metric} ${rule.stat} ${fmt(value)} ${bad ? 'over' : 'within'} ${against}` };
}

/** The latency memory after a round: good values join the baseline (a regression does not become the new normal). */
export function withBaseline(s: AlertState, value: number | null, bad: boolean, keep: number): AlertState {
  if (value === null || bad) return s;
  return { ...s, memory: { ...s.memory, baseline: [...s.memory.baseline, value].slice(-keep) } };
}

/** Dark location: a gap round is bad (no agent), a started round good; rounds skipped or missed say nothing. */
export function darkVerdict(o: RoundObservation): Verdict | null {
  const r = o.report;
  if (r.status === 'gap') return { bad: true, severity: 'degraded', value: null, threshold: null, detail: r.reason ?? `no agent in ${r.location}` };
  if (r.status === 'ok' || r.status === 'failed' || r.status === 'not-run')
    return {
      bad: false,
      severity: 'degraded',
      value: null,
      threshold: null,
      detail: `measured again in ${r.location}${r.agents.length ? ` by ${r.agents.join(', ')}` : ''}`,
    };
  return null;
}

/** No data: nothing started for the check anywhere in `intervals` × its interval. Judged on time, not rounds. */
export function noDataDecision(s: AlertState, p: { now: number; intervalMs: number; intervals: number; policy: AlertPolicy; startedNow: boolean }): Decision {
  const lastStartedAt = p.startedNow ? p.now : (s.memory.lastStartedAt ?? p.now);
  const silentMs = p.now - lastStartedAt;
  const bad = silentMs > p.intervals * p.intervalMs;
  const st0 = { ...s, memory: { ...s.memory, lastStartedAt } };
  if (!p.startedNow && !bad && s.state !== 'firing') return { state: st0, notifications: [], changed: s.memory.lastStartedAt === null };
  const detail = bad
    ? `no round started for ${Math.round(silentMs / 1000)}s (${p.intervals} intervals of ${Math.round(p.intervalMs / 1000)}s): nothing is being measured`
    : 'rounds run again';
  // Time-judged: one verdict fires (k = 1), one started round clears.
  return judge(
    st0,
    { bad, severity: 'failed', value: silentMs, threshold: p.intervals * p.intervalMs, detail },
    { k: 1, n: 1, policy: { ...p.policy, clearRounds: 1 }, now: p.now, round: null },
  );
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
