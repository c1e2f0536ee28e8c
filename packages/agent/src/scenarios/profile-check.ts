import type { Logger } from 'pino';
import { ScenarioOptionsSchema, describeError, type BrowserKind, type MetricName, type TargetProfile } from '@userprobe/shared';
import { SessionRecorder } from '../runner/recorder.js';
import { createScenarioProbe } from './scenario-probe.js';
import type { Recorder, ScenarioContext } from '../runner/scenario-api.js';
import { openAgentConsole } from './agent-console.js';
import { soleSeat } from '../runner/scenario-api.js';
import { chatLoad } from './chat-load.js';

/*
 * `profile check`: one chat-load session against a target, reported step by step — which
 * steps passed and what each did (the profile field and selector of every sub-action), the
 * step that failed with what it was waiting for, and the profile's fields nothing reached —
 * so a new profile is fixed in one pass. When the visitor side fails before the agent console
 * is opened, the console is still opened and logged in, so both sides' first problems show at
 * once. The session is chat-load itself (its steps, collectors and timeouts), not a lookalike.
 */

export interface CheckedStep {
  readonly step: string;
  readonly ok: boolean;
  /** Each sub-action the step said it was doing (Recorder.doing), in order. */
  readonly did: readonly string[];
  readonly ms: number;
  /** Why it failed (the step's error message, which names the sub-action it was at). */
  readonly error?: string;
}

export interface ProfileCheckReport {
  readonly steps: readonly CheckedStep[];
  /** Profile fields holding a selector that no step reached (after a failure). */
  readonly notReached: readonly string[];
  readonly ok: boolean;
}

/** The recorder of a check: chat-load's own SessionRecorder (step timeouts, failure messages), with each step's sub-actions kept. */
class CheckRecorder implements Recorder {
  readonly steps: { step: string; did: string[]; ok: boolean; ms: number; error?: string }[] = [];
  readonly #inner: SessionRecorder;
  #current: { did: string[] } | null = null;

  constructor(inner: SessionRecorder) {
    this.#inner = inner;
  }

  async measure<T>(step: string, fn: () => Promise<T>, opts?: { metric?: MetricName | (string & {}); timeoutMs?: number }): Promise<T> {
    const entry = { step, did: [] as string[], ok: false, ms: 0 };
    this.steps.push(entry);
    const t0 = performance.now();
    try {
      const r = await this.#inner.measure(
        step,
        () => {
          this.#current = entry;
          return fn();
        },
        opts,
      );
      entry.ok = true;
      return r;
    } catch (e) {
      Object.assign(entry, { error: this.#inner.failure?.step === step ? this.#inner.failure.message : describeError(e).message });
      throw e;
    } finally {
      entry.ms = performance.now() - t0;
      this.#current = null;
    }
  }

  value(metric: MetricName, value: number, opts?: { detail?: string; ts?: number }): void {
    this.#inner.value(metric, value, opts);
  }

  note(message: string, data?: Record<string, unknown>): void {
    this.#inner.note(message, data);
  }

  doing(action: string): void {
    this.#current?.did.push(action);
    this.#inner.doing(action);
  }
}

/** Pure: every field of a profile that holds a CSS selector or a URL a step uses, as `visitor.widget.open`. */
export function profileFields(p: TargetProfile): string[] {
  const out = ['visitor.url'];
  const w = p.visitor.widget;
  for (const k of ['frame', 'open', 'prechatName', 'prechatSubmit', 'messageInput', 'sendButton', 'sendKey', 'messageList'] as const)
    if (w[k] !== undefined) out.push(`visitor.widget.${k}`);
  out.push('visitor.widget.usable', 'agent.url');
  const l = p.agent.login;
  if (l) {
    l.fields?.forEach((_f, i) => out.push(`agent.login.fields.${i}.input`));
    for (const k of ['usernameInput', 'passwordInput', 'submit', 'submitKey'] as const) if (l[k] !== undefined) out.push(`agent.login.${k}`);
    if (l.cookies) out.push('agent.login.cookies');
    if (l.storage) out.push('agent.login.storage');
  }
  out.push('agent.ready');
  for (const k of ['chatItem', 'chatUrl', 'messageInput', 'sendButton', 'sendKey'] as const) if (p.agent[k] !== undefined) out.push(`agent.${k}`);
  return out;
}

/** Pure: the fields of `fields` that no sub-action of `steps` names. */
export function fieldsNotReached(fields: readonly string[], steps: readonly CheckedStep[]): string[] {
  const said = steps.flatMap((s) => s.did).join('\n');
  return fields.filter((f) => !new RegExp(`(^|\\s)${f.replace(/\./g, '\\.')}(\\s|,|$)`, 'm').test(said));
}

export interface CheckInput {
  readonly pages: ScenarioContext['pages'];
  readonly profile: TargetProfile;
  readonly browser: BrowserKind;
  readonly stepTimeoutMs: number;
  readonly credential: ScenarioContext['credential'];
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** Run one chat-load session on `pages` and report it step by step (see the file's comment). */
export async function checkProfile(i: CheckInput): Promise<ProfileCheckReport> {
  // chat-load's own SessionRecorder under each CheckRecorder: its step timeouts and failure messages, samples dropped.
  const checkRecorder = (sessionId: string): CheckRecorder =>
    new CheckRecorder(
      new SessionRecorder({
        session: { runId: 'profile-check', sessionId, scenario: 'chat-load' },
        browser: i.browser,
        stepTimeoutMs: i.stepTimeoutMs,
        signal: i.signal,
        emit: () => undefined,
        log: i.log,
      }),
    );
  const recorder = checkRecorder('check');
  const options = ScenarioOptionsSchema.parse({ stepTimeoutMs: i.stepTimeoutMs, sessionTimeoutMs: 20 * i.stepTimeoutMs, har: 'off', adaptiveStart: false });
  const probe = createScenarioProbe({ stepTimeoutMs: i.stepTimeoutMs, signal: i.signal, input: options.input });
  const ctx: ScenarioContext = {
    session: { runId: 'profile-check', sessionId: 'check', scenario: 'chat-load' },
    pages: i.pages,
    console: soleSeat,
    profile: i.profile,
    options,
    recorder,
    signal: i.signal,
    credential: i.credential,
    settings: undefined,
    probe,
  };
  let failed = false;
  try {
    await chatLoad.run(ctx);
  } catch {
    failed = true;
  } finally {
    await probe.close();
  }
  // The visitor side failed before the console was opened: open it anyway, so its problems show in this pass too.
  if (failed && !recorder.steps.some((s) => s.step === 'agent_console')) {
    const agentOnly = checkRecorder('check-console');
    await agentOnly
      .measure('agent_console', () => openAgentConsole({ ...ctx, recorder: agentOnly }, 'agent_console', { signal: i.signal, timeoutMs: i.stepTimeoutMs }))
      .catch(() => undefined);
    recorder.steps.push(...agentOnly.steps);
  }
  const steps = recorder.steps;
  return { steps, notReached: fieldsNotReached(profileFields(i.profile), steps), ok: steps.every((s) => s.ok) };
}

/** Pure: the report as the operator reads it. */
export function renderCheck(source: string, r: ProfileCheckReport, stepTimeoutMs: number): string {
  const lines = [`profile ${source}: one chat-load session, step by step (step timeout ${stepTimeoutMs} ms)`];
  for (const s of r.steps) {
    lines.push(`  ${s.ok ? 'ok    ' : 'FAILED'}  ${s.step} (${Math.round(s.ms)} ms)`);
    s.did.forEach((d, n) => lines.push(`          ${!s.ok && n === s.did.length - 1 ? '✗' : ' '} ${d}`));
    if (s.error !== undefined) lines.push(`          → ${s.error}`);
  }
  if (r.notReached.length) lines.push(`  not reached (after the failure; check them once it is fixed): ${r.notReached.join(', ')}`);
  const failed = r.steps.filter((s) => !s.ok).map((s) => s.step);
  lines.push(
    r.ok ? 'the profile works: every step passed' : `${failed.length} step(s) failed: ${failed.join(', ')}; fix the field each names and run the check again`,
  );
  return lines.join('\n') + '\n';
}
