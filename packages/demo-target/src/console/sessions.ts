import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

export const DEFAULT_CREDENTIALS: Readonly<Credentials> = Object.freeze({ username: 'agent', password: 'demo' });

/**
 * The console's session cookie (`login=cookie` consoles): the value a single sign-on would have
 * set. The demo accepts this one value; a profile sets it with agent.login.cookies.
 */
export const SSO_COOKIE = 'up_agent_session';
export const DEFAULT_SSO_SESSION = 'demo-sso-session';
/** Longest nickname a `login=nickname` console accepts. */
export const MAX_NICKNAME = 40;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Agent log-ins: checks credentials in constant time and issues bearer tokens. */
export class AgentSessions {
  readonly #tokens = new Map<string, { username: string }>();

  readonly #credentials: Credentials;

  constructor(credentials: Credentials = DEFAULT_CREDENTIALS) {
    this.#credentials = credentials;
  }

  /** A token for valid credentials, or null. */
  login(username: string, password: string): string | null {
    const userOk = timingSafeEqual(digest(username), digest(this.#credentials.username));
    const passOk = timingSafeEqual(digest(password), digest(this.#credentials.password));
    if (!(userOk && passOk)) return null;
    return this.#issue(username);
  }

  /** A token for a nickname (a console whose agents log in by nickname only), or null for an empty or too long one. */
  nickname(nick: string): string | null {
    const name = nick.trim();
    if (name.length === 0 || name.length > MAX_NICKNAME) return null;
    return this.#issue(name);
  }

  /** A token for the single sign-on session cookie's value, or null. */
  session(cookie: string): string | null {
    if (!timingSafeEqual(digest(cookie), digest(DEFAULT_SSO_SESSION))) return null;
    return this.#issue('sso-agent');
  }

  #issue(username: string): string {
    const token = randomBytes(24).toString('base64url');
    this.#tokens.set(token, { username });
    return token;
  }

  /** The agent a token belongs to, or null. */
  verify(token: string): { username: string } | null {
    return this.#tokens.get(token) ?? null;
  }
}
