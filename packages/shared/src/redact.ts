/*
 * Secrets never written: what is redacted from evidence (HARs, console logs,
 * any text) before it touches disk — on the agent, and again on the
 * controller as defence in depth. Pure: no I/O.
 *
 * By name:
 * - headers `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, and
 *   any header whose name is secret-like (`X-Api-Key`, `X-Auth-Token`…);
 * - every value of a HAR `cookies` array;
 * - `{name, value}` pairs (HAR query strings, form and JSON params) and object
 *   keys with a secret-like name, recursively; a secret-like name is one with a
 *   word such as password, passwd, pwd, secret, token, api key, auth,
 *   credential, session id, signature (`visitorToken`, `user[password]`,
 *   `client_secret`, `X-CSRF-Token`…), see SECRET_WORDS;
 * - inside any text: `"name": "value"` (JSON, also JSON inside a JSON string),
 *   `name=value` (query strings, form bodies), multipart form fields, and
 *   `Bearer …` / `Basic …` credentials.
 *
 * By value: every literal secret the caller knows (the agent resolves the
 * profile's credentials and holds its controller token), anywhere in any
 * string: raw, URL-encoded, form-encoded and JSON-escaped (once and twice).
 *
 * What is redacted reads REDACTED; the structure around it (HAR arrays,
 * JSON documents, URLs) is kept so the evidence stays readable.
 */

export const REDACTED = '[redacted]';

/** Words that make a name secret, wherever they appear in it (`new_password`, `accessToken`). */
export const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'pass',
  'secret',
  'secrets',
  'token',
  'tokens',
  'apikey',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'sessionid',
  'sessid',
  'signature',
  'sig',
  'csrf',
  'xsrf',
  'jwt',
  'otp',
]);
/** Adjacent words that make a name secret together (`api_key`, `x-api-key`, `session-id`). */
const SECRET_PAIRS: ReadonlySet<string> = new Set(['api key', 'access key', 'private key', 'session id']);
/** Headers whose value is a credential whatever the name looks like. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Longest name looked at inside text (`name=value`, `"name": value`). */
const MAX_NAME = 128;

function words(name: string): string[] {
  let n = name;
  try {
    if (n.includes('%')) n = decodeURIComponent(n);
  } catch {
    /* not URL-encoded after all */
  }
  return n
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Is this a secret's name (a form field, query parameter, JSON key)? */
export function isSecretName(name: string): boolean {
  const w = words(name);
  for (let i = 0; i < w.length; i++) {
    if (SECRET_WORDS.has(w[i]!)) return true;
    if (i > 0 && SECRET_PAIRS.has(`${w[i - 1]} ${w[i]}`)) return true;
  }
  return false;
}

/** Is this header's value a credential? */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase()) || isSecretName(name);
}

/** Every form a literal secret may take in text. */
export function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    json,
    JSON.stringify(json).slice(1, -1),
    encodeURIComponent(json),
  ];
  return [...new Set(forms)];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `"name"<sep>"value"` or a number; the name and the value as JSON writes them. */
const JSON_PAIR = new RegExp(String.raw`"((?:[^"\\]|\\.){1,${MAX_NAME}})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)`, 'g');
/**
 * The same inside a JSON string (`{\"password\":\"x\"}`): quotes are `\"`; in
 * the value, an inner escape is `\\` followed by the escaped character
 * (`\\\"`, `\\\\`, `\\n`), an outer one `\` and a character.
 */
const ESCAPED_JSON_PAIR = new RegExp(
  String.raw`\\"((?:[^"\\]|\\\\){1,${MAX_NAME}})\\"(\s*:\s*)(\\"(?:\\\\\\"|\\\\\\\\|\\\\[^"\\]|\\[^"\\]|[^"\\])*?\\"|-?\d[\d.eE+-]*)`,
  'g',
);
/** `name=value` in a query string, a form body, a cookie header or prose. */
const KEY_VALUE = new RegExp(String.raw`(^|[?&;\s,{(])([A-Za-z0-9_.\-\[\]%]{1,${MAX_NAME}})=([^&;\s#"',)}]*)`, 'g');
/** A multipart form field: its Content-Disposition line and headers, a blank line, the value up to the boundary. */
const MULTIPART_FIELD = new RegExp(String.raw`(name="([^"\r\n]{1,${MAX_NAME}})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)([\s\S]*?)(?=\r?\n--)`, 'g');
const BEARER = /\b(Bearer)(\s+)[A-Za-z0-9._~+/-]{8,}=*/g;
const BASIC = /\b(Basic)(\s+)([A-Za-z0-9+/]{4,}={0,2})/g;

function isBasicCredential(b64: string): boolean {
  try {
    return atob(b64).includes(':');
  } catch {
    return false;
  }
}

/** Redaction by name and by the literal secrets given (more may be added later). */
export class Redactor {
  readonly #secrets = new Set<string>();
  #literal: RegExp | null = null;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Redact this value wherever it appears from now on (an empty string is ignored). */
  add(secret: string): void {
    if (secret === '' || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    const forms = [...this.#secrets].flatMap(secretForms).filter((f) => f !== '');
    forms.sort((a, b) => b.length - a.length);
    this.#literal = new RegExp([...new Set(forms)].map(escapeRegExp).join('|'), 'g');
  }

  /** How many literal secrets it knows. */
  get size(): number {
    return this.#secrets.size;
  }

  /** A text with every known secret and every secret-named value in it redacted. */
  text(s: string): string {
    let t = this.#literal ? s.replace(this.#literal, REDACTED) : s;
    t = t.replace(JSON_PAIR, (m, name: string, sep: string) => (isSecretName(unescapeJson(name)) ? `"${name}"${sep}"${REDACTED}"` : m));
    t = t.replace(ESCAPED_JSON_PAIR, (m, name: string, sep: string) => (isSecretName(name) ? `\\"${name}\\"${sep}\\"${REDACTED}\\"` : m));
    if (/content-disposition/i.test(t)) t = t.replace(MULTIPART_FIELD, (m, head: string, name: string) => (isSecretName(name) ? head + REDACTED : m));
    t = t.replace(KEY_VALUE, (m, lead: string, name: string, value: string) => (value !== '' && isSecretName(name) ? `${lead}${name}=${REDACTED}` : m));
    t = t.replace(BEARER, `$1$2${REDACTED}`);
    t = t.replace(BASIC, (m, scheme: string, sep: string, b64: string) => (isBasicCredential(b64) ? `${scheme}${sep}${REDACTED}` : m));
    return t;
  }

  /**
   * A JSON-like value (a HAR, a console log) with secrets redacted:
   * secret-named keys and `{name, value}` pairs by name, every `cookies`
   * array's values, and every string through `text`. Arrays and objects keep
   * their shape; what holds nothing to redact is returned as it was (the same
   * object), so `value(v) === v` says nothing was redacted.
   */
  value<T>(v: T): T {
    return this.#walk(v, null) as T;
  }

  #walk(v: unknown, key: string | null): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) {
      const cookies = key !== null && key.toLowerCase() === 'cookies';
      const out = v.map((x) =>
        cookies && isRecord(x) && 'value' in x && x['value'] !== REDACTED
          ? { ...(this.#walk(x, null) as Record<string, unknown>), value: REDACTED }
          : this.#walk(x, null),
      );
      return out.every((x, i) => x === v[i]) ? v : out;
    }
    if (!isRecord(v)) return v;
    const named = typeof v['name'] === 'string' && 'value' in v && isSecretHeader(v['name']);
    const out: Record<string, unknown> = {};
    let changed = false;
    for (const [k, x] of Object.entries(v)) {
      const y = (named && k === 'value') || (isSecretName(k) && x !== null && typeof x !== 'boolean') ? REDACTED : this.#walk(x, k);
      changed ||= y !== x;
      out[k] = y;
    }
    return changed ? out : v;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unescapeJson(s: string): string {
  try {
    return JSON.parse(`"${s}"`) as string;
  } catch {
    return s;
  }
}
