import {
  MAX_CALL_DURATION_MS,
  MAX_CHATS_PER_CONSOLE,
  MAX_MESSAGES,
  MAX_MIRROR_SAMPLES,
  MAX_SESSION_TIMEOUT_MS,
  MAX_STEP_TIMEOUT_MS,
  SESSION_TIMEOUT_MS,
  STEP_TIMEOUT_MS,
} from '../limits.js';
import { choiceOption, countOption, customOption, durationOption, toggleOption } from './option-spec.js';
import { NO_THINK_TIME, THINK_TIME_ACCEPTED, ThinkTimeSchema, parseThinkTime } from './think-time.js';

/**
 * How chat text gets into the widget's and the console's message inputs:
 * - `type`: key by key through the keyboard (keydown, keypress, input, keyup
 *   per character), as a person types; about 0.1 CPU-s per message on the
 *   headless shell, the largest cost of a chat session.
 * - `insert`: the whole text as one input event (CDP Input.insertText, as an
 *   IME commit or a dictation would enter it); no key events, so a widget's
 *   typing indicator may not fire. For large runs that measure delivery, not typing.
 */
export const INPUT_MODES = ['type', 'insert'] as const;
export type InputMode = (typeof INPUT_MODES)[number];

/**
 * Which sessions leave a HAR (with websocket frames) in their evidence: none,
 * the failed ones, or every one. Failed sessions get screenshots and console
 * errors whatever the mode.
 */
export const HAR_MODES = ['off', 'failures', 'all'] as const;
export type HarMode = (typeof HAR_MODES)[number];

/**
 * The scenario options: what the operator chooses per run (`controller run
 * --FLAG`) and every agent gets in its assignment (`options.KEY`). Keyed by
 * the assignment's field; each entry has its flag, help, example, default,
 * parser and wire schema (option-spec.ts). Everything else is derived from
 * this table (scenario-option-bag.ts): the `controller run` flags and their
 * --help, the config's `options`, the run parameters, the assignment schema,
 * the README table. A new option is an entry here plus its use in a scenario.
 * The bounds are limits.ts's.
 */
export const SCENARIO_OPTIONS = {
  messages: countOption({
    flag: 'messages',
    min: 1,
    max: MAX_MESSAGES,
    default: 1,
    example: '--messages 10',
    help: 'message exchanges (visitor → agent → visitor) per chat-load session',
  }),
  thinkTime: customOption({
    flag: 'think-time',
    flagType: 'string',
    accepted: THINK_TIME_ACCEPTED,
    default: NO_THINK_TIME,
    defaultText: 'none',
    example: '--think-time 20s-40s',
    schema: ThinkTimeSchema,
    parse: parseThinkTime,
    help:
      'chat-load: the pause between exchanges (needs --messages > 1), a duration or a range drawn per pause; none is back to back, a stress test; ' +
      'pages release keyboard focus during a pause',
  }),
  input: choiceOption({
    flag: 'input',
    values: INPUT_MODES,
    default: 'type',
    example: '--input insert',
    help:
      'how chat messages are entered (chat-load, and the first message of video-call and cobrowse): typed key by key (type: as a person; ' +
      '~0.1-0.2 CPU-s per message), or inserted as one input event (insert: no key events, so a typing indicator may not fire; for large runs)',
  }),
  chatsPerConsole: countOption({
    flag: 'chats-per-console',
    min: 1,
    max: MAX_CHATS_PER_CONSOLE,
    default: 1,
    example: '--chats-per-console 4',
    help:
      "chat-load: how many of a run's sessions on one agent share one agent console page at once, as a support agent serves several chats; " +
      'the console is opened and logged in once, its page load, navigation timing and web vitals are recorded by the session that opened it, ' +
      'its own requests are not recorded per session, and the agent-side steps (open the chat, reply) take turns; ' +
      'needs agent.chatItem and agent.messageList in the profile',
  }),
  callDurationMs: durationOption({
    flag: 'call-duration',
    min: 0,
    max: MAX_CALL_DURATION_MS,
    default: 5_000,
    example: '--call-duration 30s',
    help: 'video-call: how long a connected call runs while getStats() is sampled',
  }),
  mirrorSamples: countOption({
    flag: 'mirror-samples',
    min: 1,
    max: MAX_MIRROR_SAMPLES,
    default: 3,
    example: '--mirror-samples 10',
    help: 'cobrowse: mirror-lag samples per session',
  }),
  stepTimeoutMs: durationOption({
    flag: 'step-timeout',
    min: 1,
    max: MAX_STEP_TIMEOUT_MS,
    default: STEP_TIMEOUT_MS,
    fromProfile: (p) => p.timeouts.step,
    example: '--step-timeout 45s',
    help: 'per-step timeout: a step (a page load, a message delivered) that takes longer fails its session',
  }),
  sessionTimeoutMs: durationOption({
    flag: 'session-timeout',
    min: 1,
    max: MAX_SESSION_TIMEOUT_MS,
    default: SESSION_TIMEOUT_MS,
    fromProfile: (p) => p.timeouts.session,
    example: '--session-timeout 10m',
    help: 'per-session limit: a session still running after this long fails',
  }),
  har: choiceOption({
    flag: 'har',
    values: HAR_MODES,
    default: 'failures',
    example: '--har all',
    help:
      'HAR (with websocket frames) of failed sessions (failures), of every session (all), or of none (off); failed sessions also get ' +
      'screenshots of both pages and their console errors, under <out>/<run-id>/evidence/<session>/',
  }),
  adaptiveStart: toggleOption({
    flag: 'adaptive-start',
    default: true,
    example: '--no-adaptive-start',
    help: 'agents slow session starts while their CPU is saturated (--no-adaptive-start: follow the ramp exactly)',
  }),
};
