import type { Page } from 'puppeteer-core';
import type { z } from 'zod';
import type { CustomMetricDef, MetricName, ScenarioName, ScenarioOptions, TargetProfile } from '@userprobe/shared';
import type { ScenarioProbe } from '../scenarios/scenario-probe.js';
import type { ConsoleSeat } from '../host/shared-console.js';

export type { ScenarioProbe, PageWatch } from '../scenarios/scenario-probe.js';
export type { ConsoleSeat } from '../host/shared-console.js';
/** A console of one's own (what a scenario run outside a shared console gets). */
export { soleSeat } from '../host/shared-console.js';

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
  measure<T>(step: string, fn: () => Promise<T>, opts?: { metric?: MetricName | (string & {}); timeoutMs?: number }): Promise<T>;
  /**
   * Record one measured value (ms for timings), taken from the browser's clock or CDP: a catalog
   * metric (docs/metrics.md) or one the scenario declares in its `metrics`; any other name is
   * dropped with a warning.
   */
  value(metric: MetricName | (string & {}), value: number, opts?: { detail?: string; ts?: number }): void;
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

export interface ScenarioContext<Settings = unknown> {
  readonly session: SessionInfo;
  /** Visitor and agent pages, each in its own incognito context of the same browser. */
  readonly pages: { readonly visitor: Page; readonly agent: Page };
  /**
   * The session's seat at the agent console: its own (size 1), or one shared with other sessions of
   * the run (options.chatsPerConsole, for a scenario with `sharesConsole`) — open it through
   * `open` and act in it only during a `turn`.
   */
  readonly console: ConsoleSeat;
  readonly profile: TargetProfile;
  readonly options: ScenarioOptions;
  readonly recorder: Recorder;
  readonly signal: AbortSignal;
  /** Reads a credential named by the profile from this agent's environment. */
  credential(ref: { env: string; default?: string | undefined }): string;
  /** The profile's `scenario:` section as the scenario's `settings` schema parsed it (defaults filled); `{}` checked the same way when absent; undefined for a scenario without `settings`. */
  readonly settings: Settings;
  /** The built-in scenarios' timing helpers (scenario-probe.ts). */
  readonly probe: ScenarioProbe;
}

export interface Scenario<Settings = unknown> {
  readonly name: string;
  /**
   * Metrics of its own the scenario records (custom-metrics.ts): name (not a catalog name), unit,
   * kind, description. They flow like catalog metrics: samples.jsonl, the summary, MySQL, Grafana.
   */
  readonly metrics?: readonly CustomMetricDef[];
  /**
   * The schema of the profile's `scenario:` section, built with the zod the agent passes in
   * (`(z) => z.strictObject({ greeting: z.string().default('hi') })`). The agent checks the section
   * when it accepts the run and refuses it naming every problem; `ctx.settings` is the parsed value.
   */
  readonly settings?: (zod: typeof z) => z.ZodType<Settings>;
  /**
   * The scenario opens the agent console through `ctx.console.open` and does its agent-side actions
   * during `ctx.console.turn`, so several sessions may share one console (options.chatsPerConsole).
   * Without it every session has a console of its own, whatever the option says.
   */
  readonly sharesConsole?: boolean;
  run(ctx: ScenarioContext<Settings>): Promise<void>;
}
