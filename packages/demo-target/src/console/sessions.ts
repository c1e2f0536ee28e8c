import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

export const DEFAULT_CREDENTIALS: Readonly<Credentials> = Object.freeze({ username: 'agent', password: 'demo' });

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
    const token = randomBytes(24).toString('base64url');
    this.#tokens.set(token, { username });
    return token;
  }

  /** The agent a token belongs to, or null. */
  verify(token: string): { username: string } | null {
    return this.#tokens.get(token) ?? null;
  }
}
