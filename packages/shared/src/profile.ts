import { readFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ERROR_CODES, ProfileError } from './errors.js';
import { BROWSER_KINDS } from './scenarios.js';
import { schemaProblems } from './schema-problems.js';
import { ThresholdEntrySchema } from './thresholds.js';

/*
 * A target profile: everything about one tenant/environment. Nothing about a
 * target lives in code. Credentials are named by environment variable, never
 * given by value; the agent reads them on its own machine.
 */

const Selector = z.string().min(1).describe('a CSS selector (Puppeteer selector syntax)');
const Pattern = z
  .string()
  .min(1)
  .refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, 'a valid regular expression');
const Url = z.string().url('an absolute URL such as https://chat.example.com/');
/** Modifiers a send key may be pressed with, as Puppeteer names them. */
export const SEND_KEY_MODIFIERS = ['Control', 'Shift', 'Alt', 'Meta'] as const;
export const SEND_KEY_ACCEPTED =
  'Enter or NumpadEnter (or one letter or digit), after distinct modifiers among Control, Shift, Alt, Meta: Enter, Control+Enter, Shift+Enter, Meta+Enter';
/** Pure: is this a key chord a composer can send with (`Enter`, `NumpadEnter`, `Control+Enter`, `Alt+s`)? */
export function isSendKey(chord: string): boolean {
  const parts = chord.split('+');
  const key = parts.pop()!;
  const mods: readonly string[] = SEND_KEY_MODIFIERS;
  return (
    (key === 'Enter' || key === 'NumpadEnter' || /^[a-zA-Z0-9]$/.test(key)) && parts.every((m) => mods.includes(m)) && new Set(parts).size === parts.length
  );
}
const SendKey = z.string().refine(isSendKey, SEND_KEY_ACCEPTED).describe(SEND_KEY_ACCEPTED);
/**
 * How a composer sends: exactly one of its button and a key pressed in its message input.
 * Judged even when other fields of the same mapping have problems (`when`), so that every
 * problem is reported in one round.
 */
const ONE_WAY_TO_SEND = {
  path: ['sendButton'],
  message: `give exactly one of sendButton (a CSS selector: the button is clicked) and sendKey (${SEND_KEY_ACCEPTED}: pressed in messageInput)`,
  when: () => true,
};
function oneWayToSend(c: unknown): boolean {
  if (c === null || typeof c !== 'object') return true; // not a mapping: that problem is reported instead
  const { sendButton, sendKey } = c as { sendButton?: unknown; sendKey?: unknown };
  return (sendButton === undefined) !== (sendKey === undefined);
}
const Ms = z.number().int().positive().max(600_000);

export const CredentialSchema = z.strictObject({
  /** Environment variable that holds the value, read on the agent. */
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like TENANT_AGENT_PASSWORD'),
  /** Used when the variable is unset. Only for non-secret values such as the bundled demo's. */
  default: z.string().optional(),
});
export type Credential = z.infer<typeof CredentialSchema>;

export const RequestPatternSchema = z.strictObject({
  /** Regular expression matched against the full request URL. */
  url: Pattern,
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
});
export type RequestPattern = z.infer<typeof RequestPatternSchema>;

export const SocketPatternSchema = z.strictObject({
  /** Regular expression matched against the socket's URL (handshake request or websocket URL). */
  url: Pattern,
  /** What the client library is, so connect time and frame matching know the framing. */
  protocol: z.enum(['socket.io', 'raw']).default('socket.io'),
});
export type SocketPattern = z.infer<typeof SocketPatternSchema>;

/** Longest performance mark name a profile may name. */
const MAX_MARK_NAME = 200;
const MARK_ACCEPTED = `a performance mark name, 1-${MAX_MARK_NAME} characters`;

/**
 * What "the widget is usable" means, one of:
 * - `{ selector }`: the selector is first visible inside the widget frame;
 * - `{ mark }`: a User Timing mark of that name is made inside the widget frame
 *   (`performance.mark(name)`; its `startTime` is the instant);
 * - `{ request }`: the first request matching the named `network.requests`
 *   pattern has finished (CDP loadingFinished).
 */
export const WIDGET_USABLE_ACCEPTED =
  "one of { selector: '<CSS selector>' }, { mark: '<performance mark name>' }, { request: '<name of a network.requests pattern>' }";
export const WidgetUsableSchema = z.union(
  [
    z.strictObject({ selector: Selector }),
    z.strictObject({ mark: z.string().min(1, MARK_ACCEPTED).max(MAX_MARK_NAME, MARK_ACCEPTED) }),
    z.strictObject({ request: z.string().min(1) }),
  ],
  { error: WIDGET_USABLE_ACCEPTED },
);
export type WidgetUsable = z.infer<typeof WidgetUsableSchema>;

/** One field of a login form: the input, and the credential typed into it. */
export const LoginFieldSchema = z.strictObject({
  input: Selector,
  value: CredentialSchema,
});

/** RFC 6265 cookie-name characters. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A cookie set in the agent console's browser context before it loads (a session the product issued elsewhere, e.g. by SSO). */
export const LoginCookieSchema = z.strictObject({
  name: z.string().min(1).max(256).regex(COOKIE_NAME, "a cookie name: letters, digits and !#$%&'*+-.^_`|~"),
  value: CredentialSchema,
  /** The URL the cookie belongs to (its host and path); default agent.url. */
  url: Url.optional(),
});

/** A localStorage entry set on the agent console's origin before it loads (a token a single-page app keeps there). */
export const LoginStorageSchema = z.strictObject({
  key: z.string().min(1).max(200),
  value: CredentialSchema,
});

export const LOGIN_ACCEPTED =
  'a form (fields: [{ input, value }] — or the shorthand username, password, usernameInput, passwordInput — with submit: <selector>, submitKey: <key>, or neither), cookies: [{ name, value, url? }], storage: [{ key, value }] (localStorage), or a form with either';

/**
 * How the agent gets into its console. A form: any number of fields, each filled with a
 * credential, then its submit button clicked, a key pressed in the last field, or nothing
 * (a console that logs in as the fields are filled). Cookies, localStorage entries: set before
 * the console loads. Any of them may be combined (cookies and storage first). The classic username/password form has a shorthand.
 */
export const LoginSchema = z
  .strictObject({
    fields: z.array(LoginFieldSchema).min(1).max(10).optional(),
    username: CredentialSchema.optional(),
    password: CredentialSchema.optional(),
    usernameInput: Selector.optional(),
    passwordInput: Selector.optional(),
    /** Click to log in. */
    submit: Selector.optional(),
    /** Or press this key in the form's last field. */
    submitKey: SendKey.optional(),
    cookies: z.array(LoginCookieSchema).min(1).max(20).optional(),
    /** localStorage entries set on agent.url's origin before the console's first load. */
    storage: z.array(LoginStorageSchema).min(1).max(20).optional(),
  })
  .superRefine((l, ctx) => {
    const shorthand = ['username', 'password', 'usernameInput', 'passwordInput'] as const;
    const given = shorthand.filter((k) => l[k] !== undefined);
    if (given.length > 0 && given.length < shorthand.length) {
      for (const k of shorthand.filter((k) => l[k] === undefined))
        ctx.addIssue({ code: 'custom', path: [k], message: `the username/password shorthand needs all of ${shorthand.join(', ')}` });
    }
    const form = l.fields !== undefined || given.length > 0;
    if (l.fields !== undefined && given.length > 0)
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'give the form as fields or as the username/password shorthand, not both' });
    if (l.submit !== undefined && l.submitKey !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['submitKey'],
        message: 'give at most one of submit (a button to click) and submitKey (a key pressed in the last field)',
      });
    if (!form && (l.submit !== undefined || l.submitKey !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [l.submit !== undefined ? 'submit' : 'submitKey'],
        message: 'submits a form: give its fields (or the username/password shorthand)',
      });
    if (!form && l.cookies === undefined && l.storage === undefined) ctx.addIssue({ code: 'custom', path: [], message: LOGIN_ACCEPTED });
  });
export type Login = z.infer<typeof LoginSchema>;

const DELIVERY_ACCEPTED =
  'dom (the text appears in the receiving page) or { frame: <a socket under network.sockets> } (a websocket message containing it arrives)';
export const DeliveryBySchema = z.union([z.literal('dom'), z.strictObject({ frame: z.string().min(1) })], { error: DELIVERY_ACCEPTED });
export type DeliveryBy = z.infer<typeof DeliveryBySchema>;

export const TargetProfileSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    description: z.string().max(500).optional(),
    /** Which Chromium measures this target unless `controller run --browser` says otherwise (default: shell). */
    browser: z.enum(BROWSER_KINDS).optional(),
    visitor: z.strictObject({
      url: Url,
      widget: z
        .strictObject({
          /** Selector of the widget's iframe in the visitor page; omit if the widget renders inline. */
          frame: Selector.optional(),
          usable: WidgetUsableSchema,
          /** Click to open the chat (launcher button); omit when the chat is open already (in the page, or opened by visitor.url). */
          open: Selector.optional(),
          /** Optional pre-chat form: name field and start button. */
          prechatName: Selector.optional(),
          prechatSubmit: Selector.optional(),
          messageInput: Selector,
          /** Click to send; or `sendKey`, pressed in messageInput (exactly one of the two). */
          sendButton: Selector.optional(),
          sendKey: SendKey.optional(),
          /** Container in which messages (the agent's replies) appear. */
          messageList: Selector,
        })
        .refine(oneWayToSend, ONE_WAY_TO_SEND),
      /** Video call controls in the widget (video-call scenario). */
      video: z
        .strictObject({
          acceptCall: Selector,
          remoteVideo: Selector,
          localVideo: Selector.optional(),
        })
        .optional(),
      /** Cobrowse on the visitor page (cobrowse scenario). */
      cobrowse: z
        .strictObject({
          /** Element shown on the visitor page once the session is live. */
          indicator: Selector,
          /** An element whose text the scenario changes to measure mirror lag. */
          mutable: Selector,
          /** Optional: click to load the cobrowse script on request. */
          load: Selector.optional(),
        })
        .optional(),
    }),
    agent: z
      .strictObject({
        url: Url,
        /** How the agent gets into the console (login.ts): a form, cookies, or both; omit when the console needs no login. */
        login: LoginSchema.optional(),
        /** Visible once the console is ready to receive chats. */
        ready: Selector,
        /**
         * A chat in the incoming list; the scenario clicks the one holding its message text.
         * Omit when the product assigns chats to agents by itself (the chat opens in the console).
         */
        chatItem: Selector.optional(),
        /**
         * A regular expression on the console's URL once the chat is open, for products that route
         * to the chat themselves (auto-assignment, a notification): the agent_open_chat step waits
         * for it (after clicking chatItem, when given).
         */
        chatUrl: Pattern.optional(),
        /**
         * The open chat's messages (delivery is seen anywhere in the console). With --chats-per-console > 1 a session
         * reopens its chat before each reply and waits until its message shows here; also for custom scenarios.
         */
        messageList: Selector.optional(),
        messageInput: Selector,
        /** Click to send; or `sendKey`, pressed in messageInput (exactly one of the two). */
        sendButton: Selector.optional(),
        sendKey: SendKey.optional(),
        video: z
          .strictObject({
            startCall: Selector,
            remoteVideo: Selector,
            localVideo: Selector.optional(),
          })
          .optional(),
        cobrowse: z
          .strictObject({
            start: Selector,
            /** The mirror of the visitor page (an iframe or container). */
            mirror: Selector,
            /** Inside the mirror: what appears once the first snapshot is rendered. */
            snapshotReady: Selector,
          })
          .optional(),
      })
      .refine(oneWayToSend, ONE_WAY_TO_SEND),
    network: z.strictObject({
      /**
       * Named request patterns. `init`, `create` and `addMessage` time chat-load's api_* metrics
       * (a metric whose pattern is absent is not measured: skippedMetrics); every other name is
       * timed as api_request with its name as detail.
       */
      requests: z
        .strictObject({
          init: RequestPatternSchema.optional(),
          create: RequestPatternSchema.optional(),
          addMessage: RequestPatternSchema.optional(),
          cobrowseScript: RequestPatternSchema.optional(),
        })
        .catchall(RequestPatternSchema)
        .default({}),
      sockets: z
        .strictObject({
          /** The chat's realtime socket (crm_ws_connect; not measured when absent). */
          crm: SocketPatternSchema.optional(),
          webrtc: SocketPatternSchema.optional(),
          cobrowse: SocketPatternSchema.optional(),
        })
        .default({}),
    }),
    timeouts: z
      .strictObject({
        step: Ms.optional(),
        session: Ms.optional(),
      })
      .default({}),
    /** Pass/fail limits `controller run` judges this target's load tests on (thresholds.ts; --threshold adds to them). */
    thresholds: z.array(ThresholdEntrySchema).max(100).optional(),
    /**
     * How the chat scenario sees a message arrive (msg_visitor_to_agent, msg_agent_to_visitor): `dom`
     * (default) when its text appears in the receiving page; `{ frame: <socket> }` when a websocket
     * text message containing it arrives on that network.sockets socket (for a page that shows
     * messages late, or not at all).
     */
    delivery: z
      .strictObject({
        toAgent: DeliveryBySchema.default('dom'),
        toVisitor: DeliveryBySchema.default('dom'),
      })
      .optional(),
    /** A custom scenario's own settings, checked by the schema its module exports (`settings`; docs/scenario-api.md) when an agent accepts the run. */
    scenario: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((p, ctx) => {
    // `usable: { request }` names a pattern of this profile.
    const usable = p.visitor.widget.usable;
    if ('request' in usable && !Object.hasOwn(p.network.requests, usable.request)) {
      ctx.addIssue({
        code: 'custom',
        path: ['visitor', 'widget', 'usable', 'request'],
        message: `names no pattern under network.requests; the patterns are: ${Object.keys(p.network.requests).join(', ')}`,
      });
    }
    // Delivery by frame names a socket of this profile.
    for (const side of ['toAgent', 'toVisitor'] as const) {
      const by = p.delivery?.[side];
      const sockets: Readonly<Record<string, unknown>> = p.network.sockets;
      if (by !== undefined && by !== 'dom' && sockets[by.frame] === undefined) {
        const known = Object.keys(sockets).filter((k) => sockets[k] !== undefined);
        ctx.addIssue({
          code: 'custom',
          path: ['delivery', side, 'frame'],
          message: `names no socket under network.sockets; ${known.length ? `the sockets are: ${known.join(', ')}` : 'the profile has none'}`,
        });
      }
    }
    // A login cookie holds a credential: it goes only to the console's own host.
    const consoleHost = new URL(p.agent.url).hostname;
    p.agent.login?.cookies?.forEach((c, i) => {
      if (c.url !== undefined && new URL(c.url).hostname !== consoleHost) {
        ctx.addIssue({
          code: 'custom',
          path: ['agent', 'login', 'cookies', i, 'url'],
          message: `a login cookie belongs to the agent console's host ${consoleHost} (agent.url); found host ${new URL(c.url).hostname}`,
        });
      }
    });
  });
export type TargetProfile = z.infer<typeof TargetProfileSchema>;

/** Replace `${NAME}` in every string with `vars[NAME]`; an unknown name is an error naming its path. */
function interpolate(value: unknown, vars: Readonly<Record<string, string>>, path: string[], source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = vars[name];
      if (v === undefined) {
        const known = Object.keys(vars);
        throw new ProfileError(
          `${source}: ${path.join('.') || '(root)'}: unknown variable \${${name}}; ` +
            (known.length ? `known variables: ${known.join(', ')}` : 'this profile is loaded without variables'),
          { detail: { path: path.join('.') } },
        );
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, vars, [...path, String(i)], source));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars, [...path, k], source)]));
  }
  return value;
}

/**
 * Parse and validate a profile from YAML text. `source` names the file in errors;
 * `vars` fills `${NAME}` placeholders (the bundled demo uses them for its ports).
 */
export function parseProfile(text: string, source: string, vars: Readonly<Record<string, string>> = {}): TargetProfile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e);
    throw new ProfileError(`${source}: not valid YAML: ${msg}`, { cause: e });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ProfileError(`${source}: a profile is a YAML mapping with keys name, visitor, agent, network`);
  }
  const filled = interpolate(raw, vars, [], source);
  const r = TargetProfileSchema.safeParse(filled);
  if (!r.success) {
    // Every problem at once, each with its path, what was found and what is accepted: one round of fixes.
    const problems = schemaProblems(TargetProfileSchema, r.error, filled);
    const path = r.error.issues[0]!.path.map(String).join('.') || '(root)';
    const text = problems.length === 1 ? problems[0]! : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    throw new ProfileError(`${source}: ${text}`, {
      detail: { path, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return r.data;
}

/**
 * The repository's `profiles/` folder: the profiles shipped with userprobe (and
 * the tenant template). Resolves from this package's src/ and dist/ alike.
 */
export const PROFILES_DIR = fileURLToPath(new URL('../../../profiles/', import.meta.url));

/**
 * Profiles shipped with userprobe, by the name `--target` accepts. Each describes the bundled
 * demo target in one product shape: `demo` (profiles/demo.yaml), and the example shapes in
 * profiles/examples/ — a full-page chat with messages over the websocket only
 * (`demo-socket-chat`), a nickname log-in with auto-assigned chats (`demo-nickname`), a single
 * sign-on console (`demo-sso`). Whoever starts the demo fills their `${DEMO_SITE_URL}` /
 * `${DEMO_APP_URL}` (this package does not know the demo, only its profiles).
 */
export const BUNDLED_PROFILES: Readonly<Record<string, string>> = Object.freeze({
  demo: join(PROFILES_DIR, 'demo.yaml'),
  'demo-socket-chat': join(PROFILES_DIR, 'examples', 'socket-chat.yaml'),
  'demo-nickname': join(PROFILES_DIR, 'examples', 'nickname-autoassign.yaml'),
  'demo-sso': join(PROFILES_DIR, 'examples', 'sso-cookie.yaml'),
});

/** Pure: does `--target` name a bundled profile (all of which describe the bundled demo target, started for it)? */
export function isDemoTarget(target: string): boolean {
  return Object.hasOwn(BUNDLED_PROFILES, target);
}

export interface ResolvedProfile {
  readonly profile: TargetProfile;
  /** Absolute path of the YAML file it was read from. */
  readonly path: string;
  /** True when `nameOrPath` was a bundled name (`demo`). */
  readonly bundled: boolean;
}

/**
 * `--target`: a bundled profile name (`demo`, looked up first) or the path of a
 * YAML target profile (relative to the working directory). `vars` fill the
 * profile's `${NAME}` placeholders (the demo's URLs; a tenant template's
 * hosts). Neither a bundled name nor a readable file → ProfileError
 * PROFILE_NOT_FOUND naming the bundled names; a malformed profile →
 * ProfileError PROFILE_INVALID naming the bad field's path.
 *
 * The one function of this package that reads a file: the controller and the
 * agent both resolve targets the same way.
 */
export async function resolveProfile(nameOrPath: string, vars: Readonly<Record<string, string>> = {}): Promise<ResolvedProfile> {
  const bundledPath = Object.hasOwn(BUNDLED_PROFILES, nameOrPath) ? BUNDLED_PROFILES[nameOrPath] : undefined;
  const path = bundledPath ?? resolvePath(nameOrPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const names = Object.keys(BUNDLED_PROFILES);
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ProfileError(
      `${nameOrPath}: not a bundled profile (${names.join(', ')}) and not a readable profile file (${code}); ` +
        'the target is a bundled profile name or the path of a YAML target profile (see profiles/tenant.template.yaml)',
      { code: ERROR_CODES.PROFILE_NOT_FOUND, cause: e, detail: { target: nameOrPath, bundled: names } },
    );
  }
  return { profile: parseProfile(text, nameOrPath, vars), path, bundled: bundledPath !== undefined };
}
