import type { MetricName } from './metrics.js';
import type { Credential, Login, TargetProfile } from './profile.js';
import type { ScenarioName } from './scenarios.js';

/*
 * Pure decisions a profile's shape makes: how the agent logs in, and which metrics a scenario
 * cannot measure because the profile does not define their step. The scenarios act on them;
 * the controller's summary reports the skipped metrics with their reasons.
 */

/** A login form field to fill: its input, the credential, and the profile field it came from (for step messages). */
export interface LoginFieldStep {
  readonly input: string;
  readonly value: Credential;
  readonly field: string;
}

/** How to submit a login form: click a button, press a key in its last field, or nothing. */
export type LoginSubmit = { readonly button: string; readonly field: string } | { readonly key: string; readonly field: string } | null;

export interface LoginPlan {
  readonly cookies: NonNullable<Login['cookies']>;
  readonly storage: NonNullable<Login['storage']>;
  readonly fields: readonly LoginFieldStep[];
  readonly submit: LoginSubmit;
}

const AT = 'agent.login';

/** Pure: the steps of a profile's agent login, in order (cookies and storage, fields, submit); no login → nothing to do. */
export function loginPlan(login: Login | undefined): LoginPlan {
  if (!login) return { cookies: [], storage: [], fields: [], submit: null };
  const fields: LoginFieldStep[] =
    login.fields?.map((f, i) => ({ input: f.input, value: f.value, field: `${AT}.fields.${i}.input` })) ??
    (login.username && login.password && login.usernameInput && login.passwordInput
      ? [
          { input: login.usernameInput, value: login.username, field: `${AT}.usernameInput` },
          { input: login.passwordInput, value: login.password, field: `${AT}.passwordInput` },
        ]
      : []);
  const submit: LoginSubmit =
    login.submit !== undefined
      ? { button: login.submit, field: `${AT}.submit` }
      : login.submitKey !== undefined
        ? { key: login.submitKey, field: `${AT}.submitKey` }
        : null;
  return { cookies: login.cookies ?? [], storage: login.storage ?? [], fields, submit };
}

/** A metric a scenario does not measure for this profile, and why. */
export interface SkippedMetric {
  readonly metric: MetricName;
  readonly reason: string;
}

/** Pure: the core metrics `scenario` cannot measure on this profile, each with the missing profile field. */
export function skippedMetrics(scenario: ScenarioName, profile: Pick<TargetProfile, 'network'>): SkippedMetric[] {
  if (scenario !== 'chat-load') return [];
  const { requests, sockets } = profile.network;
  const out: SkippedMetric[] = [];
  const request = (metric: MetricName, name: 'init' | 'create' | 'addMessage'): void => {
    if (requests[name] === undefined) out.push({ metric, reason: `the profile names no network.requests.${name}` });
  };
  request('api_init', 'init');
  request('api_create', 'create');
  request('api_add_message', 'addMessage');
  if (sockets.crm === undefined) out.push({ metric: 'crm_ws_connect', reason: 'the profile names no network.sockets.crm' });
  return out;
}

/**
 * Pure: the problem with a profile's `scenario:` section for a run, or null. The section holds a
 * custom scenario module's settings (checked by the module's schema on the agents); a run of a
 * built-in scenario has no module to read it, so the section would be silently ignored.
 */
export function scenarioSectionProblem(
  profile: Pick<TargetProfile, 'name' | 'scenario'>,
  scenario: ScenarioName,
  scenarioModule: string | null,
): string | null {
  if (profile.scenario === undefined || scenarioModule !== null) return null;
  return `profile ${profile.name}: its scenario: section holds a custom scenario module's settings, but this run has no --scenario-module (built-in ${scenario} takes no settings); remove the section, or run the module it is for`;
}
