import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import {
  ERROR_CODES,
  ProbeError,
  SESSION_MAX_NOTES,
  SESSION_NOTE_MAX_CHARS,
  SESSION_NOTE_MAX_KEYS,
  StepError,
  REDACTED,
  describeError,
  metricUnit,
  isSecretName,
  type BrowserKind,
  type CustomMetricDef,
  type MetricName,
  type Sample,
  type SessionNote,
  type SessionRecord,
  type SessionStatus,
} from '@userprobe/shared';
import type { Recorder, SessionInfo } from './scenario-api.js';

/** Longest failed-step name and error message a SessionRecord carries (schema limits). */
const MAX_STEP = 64;
const MAX_MESSAGE = 2_000;
const MAX_DETAIL = 64;

/** A note's non-flat value as text: its JSON, or what it is when it has none (a function, a BigInt inside). */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
}

/**
 * Pure: a scenario's `note(message, data)` as a session record keeps it: the message and the
 * data's values redacted and cut to size (a value under a secret-like name, such as `token` or
 * `apiKey`, is REDACTED whatever it is); a value that is not a string, number, boolean or null
 * kept as its JSON text; at most SESSION_NOTE_MAX_KEYS keys.
 */
export function toSessionNote(at: number, message: string, data: Record<string, unknown> | undefined, redact: (s: string) => string): SessionNote {
  const cut = (s: string): string => redact(s).slice(0, SESSION_NOTE_MAX_CHARS);
  const note: { at: number; message: string; data?: Record<string, string | number | boolean | null> } = { at, message: cut(message) };
  if (data !== undefined) {
    const flat: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(data).slice(0, SESSION_NOTE_MAX_KEYS)) {
      const key = k.slice(0, 64);
      if (isSecretName(k)) flat[key] = REDACTED;
      else if (typeof v === 'number') flat[key] = Number.isFinite(v) ? v : String(v);
      else if (typeof v === 'boolean' || v === null) flat[key] = v;
      else if (typeof v === 'string') flat[key] = cut(v);
      else flat[key] = cut(jsonText(v));
    }
    note.data = flat;
  }
  return note;
}

export interface Failure {
  readonly step: string | null;
  readonly code: string;
  readonly message: string;
}

/** Pure: how a session ended, from its first failure. Aborted (run abort, shutdown) is not a failure of the target. */
export function sessionStatus(failure: Failure | null): SessionStatus {
  if (failure === null) return 'ok';
  return failure.code === ERROR_CODES.SESSION_ABORTED ? 'aborted' : 'failed';
}

export interface SessionRecorderOptions {
  readonly session: SessionInfo;
  readonly browser: BrowserKind;
  /** Default per-step timeout (options.stepTimeoutMs / profile timeouts.step). */
  readonly stepTimeoutMs: number;
  /** The session's abort signal; its `reason` (a ProbeError) becomes the failure. */
  readonly signal: AbortSignal;
  /** Where samples go (the run's batcher). */
  readonly emit: (sample: Sample) => void;
  /**
   * Was the machine's CPU full and crowded while [from, to] (local epoch ms) was measured (CpuMonitor.crowdedDuring)?
   * If so, the sample is flagged `saturated`.
   */
  readonly saturated?: (from: number, to: number) => boolean;
  /** Local epoch ms → stored time (controller clock). Default: identity. */
  readonly toStoredTime?: (localTs: number) => number;
  /** Secrets out of a failure's message (it goes to the results and the log), before it is cut to size. Default: identity. */
  readonly redact?: (text: string) => string;
  readonly log: Logger;
  /** The custom metrics the scenario module declares (custom-metrics.ts): `value()` takes these names besides the catalog's. */
  readonly metrics?: readonly CustomMetricDef[];
}

/** Longest `doing()` action kept (it is part of a failure's message). */
const MAX_DOING = 200;

function stepTimeoutError(step: string, ms: number, doing: string | undefined): StepError {
  return new StepError(
    step,
    `step "${step}" did not finish within ${ms} ms${doing === undefined ? '' : ` while it was at: ${doing}`} (step timeout; raise timeouts.step in the target profile or the run's stepTimeoutMs)`,
    { code: ERROR_CODES.STEP_TIMEOUT, detail: { timeoutMs: ms, ...(doing === undefined ? {} : { doing }) } },
  );
}

/**
 * The Recorder a scenario is handed, for one session. Times steps, records
 * values as samples, keeps the first failure (its step, code and message) and
 * produces the SessionRecord at the end. Sample and session timestamps are
 * stored in the controller's clock (`toStoredTime`); a `ts` passed to
 * `value()` is read as this machine's epoch ms.
 */
export class SessionRecorder implements Recorder {
  readonly #o: SessionRecorderOptions;
  readonly #log: Logger;
  readonly #startedAt: number;
  readonly #running = new Set<string>();
  /**
   * The measure() call whose work is running, and what it said it is doing now (doing()): one
   * context per call, so concurrent or nested steps, and a step that timed out but still runs,
   * each write their own.
   */
  readonly #call = new AsyncLocalStorage<{ doing?: string }>();
  /** The work of steps that timed out or were aborted, while it still runs (it may still act on a page). */
  readonly #abandoned = new Set<Promise<void>>();
  #failure: Failure | null = null;
  #samples = 0;
  readonly #notes: SessionNote[] = [];
  #notesLeftOut = 0;

  constructor(o: SessionRecorderOptions) {
    this.#o = o;
    this.#log = o.log.child({ sessionId: o.session.sessionId });
    this.#startedAt = this.#stored(Date.now());
  }

  #stored(localTs: number): number {
    return Math.max(0, this.#o.toStoredTime ? this.#o.toStoredTime(localTs) : localTs);
  }

  async measure<T>(step: string, fn: () => Promise<T>, opts?: { metric?: MetricName | (string & {}); timeoutMs?: number }): Promise<T> {
    const signal = this.#o.signal;
    if (signal.aborted) throw this.#failStep(step, signal.reason);
    const timeoutMs = opts?.timeoutMs ?? this.#o.stepTimeoutMs;
    this.#running.add(step);
    const call: { doing?: string } = {};
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort = (): void => undefined;
    const work = this.#call.run(call, async () => fn());
    work.catch(() => undefined); // it may settle after a timeout or abort has won the race
    const stop = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(stepTimeoutError(step, timeoutMs, call.doing)), timeoutMs);
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    stop.catch(() => undefined);
    try {
      const result = await Promise.race([work, stop]);
      if (opts?.metric !== undefined) this.value(opts.metric, performance.now() - t0);
      return result;
    } catch (e) {
      this.#abandon(work);
      throw this.#failStep(step, e, call.doing);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      this.#running.delete(step);
    }
  }

  #abandon(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#abandoned.add(settled);
    void settled.then(() => this.#abandoned.delete(settled));
  }

  /**
   * Resolves once the work of every step that timed out or was aborted so far has settled — a step
   * that lost its race may still be typing or clicking — or after `withinMs`, whichever is first.
   * At once when there is none. What a shared console's turn waits for before it passes on.
   */
  async settled(withinMs: number): Promise<void> {
    if (this.#abandoned.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, withinMs)));
    try {
      await Promise.race([Promise.all([...this.#abandoned]), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  doing(action: string): void {
    const call = this.#call.getStore();
    if (call) call.doing = action.slice(0, MAX_DOING);
  }

  /**
   * Record the failure of `step` (if it is the session's first) and return the StepError to throw;
   * `doing`: what the step said it was at, added to the message unless it says so already.
   */
  #failStep(step: string, e: unknown, doing?: string): StepError {
    const at = doing === undefined ? '' : ` (at: ${doing})`;
    let err: StepError;
    if (e instanceof StepError) {
      // An inner measure() already named its step; a helper's StepError for this step gets where it was.
      err =
        e.step === step && at && !e.message.includes(doing!)
          ? new StepError(step, `${e.message}${at}`, { code: e.code, cause: e, ...(e.detail ? { detail: { ...e.detail } } : {}) })
          : e;
    } else {
      const d = describeError(e);
      const code = e instanceof ProbeError ? e.code : ERROR_CODES.STEP_FAILED;
      err = new StepError(step, e instanceof ProbeError ? `${d.message}${at}` : `step "${step}" failed: ${d.message}${at}`, { code, cause: e });
    }
    this.#record({ step: err.step, code: err.code, message: err.message });
    return err;
  }

  #record(f: Failure): void {
    if (this.#failure !== null) return;
    const message = (this.#o.redact ? this.#o.redact(f.message) : f.message).slice(0, MAX_MESSAGE);
    this.#failure = { step: f.step === null ? null : f.step.slice(0, MAX_STEP), code: f.code.slice(0, 64), message };
    this.#log.info({ failedStep: this.#failure.step, err: { code: this.#failure.code, message: this.#failure.message } }, 'session step failed');
  }

  /**
   * The scenario (or the session around it) threw outside measure(), or was
   * aborted: record it, attributed to the step that was running, if any.
   */
  fail(e: unknown): void {
    if (e instanceof StepError) {
      this.#record({ step: e.step, code: e.code, message: e.message });
      return;
    }
    const d = describeError(e);
    const running = [...this.#running].at(-1) ?? null;
    this.#record({ step: running, code: e instanceof ProbeError ? e.code : ERROR_CODES.STEP_FAILED, message: d.message });
  }

  value(metric: MetricName | (string & {}), value: number, opts?: { detail?: string; ts?: number }): void {
    const unit = metricUnit(String(metric), this.#o.metrics);
    if (unit === undefined || !Number.isFinite(value)) {
      this.#log.warn(
        { metric: String(metric), value: String(value) },
        unit === undefined
          ? "value dropped: the metric is neither built in (docs/metrics.md) nor declared in the scenario module's metrics"
          : 'value dropped: not a finite number',
      );
      return;
    }
    const end = opts?.ts ?? Date.now();
    const sample: Sample = {
      sessionId: this.#o.session.sessionId,
      metric,
      value,
      ts: this.#stored(end),
    };
    // A timing covers [end - value, end]; a count is judged at its instant.
    const from = unit === 'ms' ? end - Math.max(0, value) : end;
    if (this.#o.saturated?.(from, end)) sample.saturated = true;
    if (opts?.detail !== undefined) sample.detail = opts.detail.slice(0, MAX_DETAIL);
    this.#samples += 1;
    this.#o.emit(sample);
  }

  note(message: string, data?: Record<string, unknown>): void {
    const note = toSessionNote(this.#stored(Date.now()), message, data, this.#o.redact ?? ((s) => s));
    this.#log.info(note.data === undefined ? {} : { data: note.data }, note.message);
    if (this.#notes.length < SESSION_MAX_NOTES) this.#notes.push(note);
    else this.#notesLeftOut += 1;
  }

  get samples(): number {
    return this.#samples;
  }

  get failure(): Failure | null {
    return this.#failure;
  }

  /** The session's record, as stored by the controller; `artifacts`: its evidence paths, relative to the run's results folder. */
  finish(artifacts: readonly string[] = []): SessionRecord {
    const f = this.#failure;
    return {
      sessionId: this.#o.session.sessionId,
      scenario: this.#o.session.scenario,
      browser: this.#o.browser,
      status: sessionStatus(f),
      startedAt: this.#startedAt,
      endedAt: Math.max(this.#startedAt, this.#stored(Date.now())),
      failedStep: f?.step ?? null,
      error: f === null ? null : { code: f.code, message: f.message },
      artifacts: [...artifacts],
      ...(this.#notes.length ? { notes: this.#notesList() } : {}),
    };
  }

  /** The notes as the record keeps them: all, or the first SESSION_MAX_NOTES − 1 and one saying how many more there were. */
  #notesList(): SessionNote[] {
    if (this.#notesLeftOut === 0) return [...this.#notes];
    const kept = this.#notes.slice(0, SESSION_MAX_NOTES - 1);
    const more = this.#notesLeftOut + this.#notes.length - kept.length;
    return [...kept, { at: this.#notes.at(-1)!.at, message: `${more} more note(s) left out of this record (the agent's log has them)` }];
  }
}
