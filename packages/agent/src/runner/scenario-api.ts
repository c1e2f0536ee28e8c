import type { Page } from 'puppeteer-core';
import type { MetricName, ScenarioName, ScenarioOptions, TargetProfile } from '@userprobe/shared';

/*
 * The small surface a scenario sees: its pages, the target profile, a recorder
 * and an abort signal. A scenario never touches sockets, the spool, MySQL or
 * the root logger. Custom scenarios loaded by file path implement `Scenario`.
 */

export interface Recorder {
  /**
   * Run one named step. If it throws (or exceeds the step timeout, or the
   * session is aborted) the step is recorded as the session's failed step with
   * its error, and the error is rethrown so the scenario stops. When `metric`
   * is given, the step's wall time (Node monotonic clock) is recorded as it.
   */
  measure<T>(step: string, fn: () => Promise<T>, opts?: { metric?: MetricName; timeoutMs?: number }): Promise<T>;
  /** Record one measured value (ms for timings), taken from the browser's clock or CDP. */
  value(metric: MetricName, value: number, opts?: { detail?: string; ts?: number }): void;
  /** Free-form note, kept in the session's record (`notes` in sessions.jsonl) and its log; not a sample. Values under secret-like names are redacted. */
  note(message: string, data?: Record<string, unknown>): void;
  /**
   * Say what the running step is doing now, e.g. `fill agent.login.usernameInput '#user'`
   * (the profile field and its selector or pattern): if the step then times out or fails,
   * its message names it. Each call replaces the last; a new step starts with none.
   */
  doing(action: string): void;
}

export interface SessionInfo {
  readonly runId: string;
  readonly sessionId: string;
  readonly scenario: ScenarioName;
}

export interface ScenarioContext {
  readonly session: SessionInfo;
  /** Visitor and agent pages, each in its own incognito context of the same browser. */
  readonly pages: { readonly visitor: Page; readonly agent: Page };
  readonly profile: TargetProfile;
  readonly options: ScenarioOptions;
  readonly recorder: Recorder;
  readonly signal: AbortSignal;
  /** Reads a credential named by the profile from this agent's environment. */
  credential(ref: { env: string; default?: string | undefined }): string;
}

export interface Scenario {
  readonly name: string;
  run(ctx: ScenarioContext): Promise<void>;
}
