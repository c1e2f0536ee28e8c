import { isIP } from 'node:net';
import { ConfigError } from '@userprobe/shared';

/*
 * Where this agent's browser may go: `--allow-host` patterns from the agent's
 * own operator. Pure (no DNS, no I/O). The rules:
 *
 * - Only `http:` and `https:` pages (plus `about:blank` / `about:srcdoc` and
 *   `data:` / `blob:` documents, which reach nothing by themselves; Chromium
 *   lets no page send a main frame to `data:`, only the agent's own code).
 *   A profile's URLs are `http:` / `https:` only.
 * - A page's main frame — and every URL the target profile names — must be on
 *   an allowed host. Without `--allow-host` no host is allowed: the agent
 *   refuses every assignment and says which flag to add.
 * - Frames inside a page (widgets, embedded videos) may load public hosts;
 *   a frame on a loopback, private or unspecified address (an IP literal or
 *   `localhost`, or a name that resolved to one) needs its host allowed.
 * - Link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata
 *   endpoints are never allowed, whatever the patterns say.
 *
 * Patterns: a host name (`chat.example.com`), `*.example.com` (any name
 * below example.com, not example.com itself), or an IP address (`127.0.0.1`,
 * `::1` or `[::1]`). No ports, no paths, no bare `*`.
 */

/** Metadata endpoints by name (their addresses are covered by the link-local rule, or listed in METADATA_ADDRESSES). */
export const METADATA_HOSTS: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
/** Metadata endpoints outside link-local: Alibaba Cloud's, and AWS's IPv6 one. */
export const METADATA_ADDRESSES: ReadonlySet<string> = new Set(['100.100.100.200', 'fd00:ec2::254']);

/** Documents a page or frame may hold without a host check: they reach nothing over the network. */
const LOCAL_DOCUMENT_URLS = /^(about:(blank|srcdoc)(#.*)?$|data:|blob:)/i;

/** What `--allow-host` accepts, for messages. */
export const ALLOW_HOST_ACCEPTED = 'a host name (chat.example.com), *.example.com for the names below example.com, or an IP address (127.0.0.1, ::1)';

/** A URL's host as written in URL.hostname → bare lower-case form (no brackets, no trailing dot). */
export function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function ipv4(host: string): number[] | null {
  if (isIP(host) !== 4) return null;
  return host.split('.').map(Number);
}

/** IPv4 embedded in an IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe` or `::ffff:169.254.169.254`), else null. */
function mappedV4(host: string): number[] | null {
  const m = /^::ffff:(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(host);
  if (!m) return null;
  if (m[3] !== undefined) return ipv4(m[3]);
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255];
}

/** First 16 bits of an IPv6 address (after expanding `::`), or null when `host` is not IPv6. */
function v6Head(host: string): number | null {
  if (isIP(host) !== 6) return null;
  const first = host.startsWith('::') ? '0' : host.split(':')[0]!;
  return parseInt(first || '0', 16);
}

/** Why a host is never allowed (link-local, metadata), or null. */
export function neverAllowedReason(rawHost: string): string | null {
  const host = normalizeHost(rawHost);
  if (METADATA_HOSTS.has(host) || METADATA_ADDRESSES.has(host)) return `${host} is a cloud metadata endpoint`;
  const v4 = ipv4(host) ?? mappedV4(host);
  if (v4 !== null) {
    if (v4[0] === 169 && v4[1] === 254) return `${host} is a link-local address (169.254.0.0/16, where cloud metadata lives)`;
    if (METADATA_ADDRESSES.has(v4.join('.'))) return `${host} is a cloud metadata endpoint`;
    return null;
  }
  const head = v6Head(host);
  if (head !== null && (head & 0xffc0) === 0xfe80) return `${host} is a link-local address (fe80::/10)`;
  return null;
}

/** Is `host` a loopback, private or unspecified address, or `localhost`? (A frame there needs its host allowed.) */
export function isInternalHost(rawHost: string): boolean {
  const host = normalizeHost(rawHost);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = ipv4(host) ?? mappedV4(host);
  if (v4 !== null) {
    const [a, b] = v4 as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const head = v6Head(host);
  if (head === null) return false;
  return host === '::' || host === '::1' || (head & 0xfe00) === 0xfc00;
}

type HostPattern = { readonly kind: 'exact'; readonly host: string } | { readonly kind: 'suffix'; readonly suffix: string };

/** `--allow-host` value → a pattern; a ConfigError says what is accepted. */
export function parseHostPattern(raw: string): HostPattern {
  const p = normalizeHost(raw.trim());
  const bad = (why: string): ConfigError => new ConfigError(`--allow-host: "${raw}" ${why}; accepted: ${ALLOW_HOST_ACCEPTED}`);
  if (p === '') throw bad('is empty');
  if (p === '*' || p === '*.') throw bad('would allow every host (list the hosts this agent may open)');
  const never = neverAllowedReason(p.startsWith('*.') ? p.slice(2) : p);
  if (never !== null) throw new ConfigError(`--allow-host: "${raw}" is never allowed: ${never}`);
  if (isIP(p) !== 0) return { kind: 'exact', host: p };
  if (p.includes('/') || p.includes(':')) throw bad('is not a host (no scheme, port or path)');
  const name = p.startsWith('*.') ? p.slice(2) : p;
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)) throw bad('is not a host name');
  return p.startsWith('*.') ? { kind: 'suffix', suffix: `.${name}` } : { kind: 'exact', host: name };
}

/** Where a URL is opened: the profile names it, a page's main frame, or a frame inside a page. */
export type UrlPlace = 'profile' | 'main-frame' | 'sub-frame';

/** The allow-list of one agent, built once from its config. */
export class HostPolicy {
  readonly #patterns: readonly HostPattern[];
  /** The patterns as the operator wrote them (for messages). */
  readonly patterns: readonly string[];

  constructor(patterns: readonly string[]) {
    this.#patterns = patterns.map(parseHostPattern);
    this.patterns = [...patterns];
  }

  /** Does an `--allow-host` pattern match `host`? (Never-allowed hosts are checked by urlProblem.) */
  allows(rawHost: string): boolean {
    const host = normalizeHost(rawHost);
    return this.#patterns.some((p) => (p.kind === 'exact' ? p.host === host : host.endsWith(p.suffix)));
  }

  /** The allowed hosts, for messages. */
  describe(): string {
    return this.#patterns.length === 0 ? 'none (no --allow-host)' : this.patterns.join(', ');
  }

  /**
   * Why this agent does not open `url` at `place`, or null when it may. A
   * reason names the flag that would allow it, or says it is never allowed.
   */
  urlProblem(url: string, place: UrlPlace): string | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `"${clip(url)}" is not an absolute URL`;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      if (place !== 'profile' && LOCAL_DOCUMENT_URLS.test(url)) return null;
      return `${u.protocol} URLs are never opened (${clip(url)}); this agent opens http: and https: only`;
    }
    const never = neverAllowedReason(u.hostname);
    if (never !== null) return `${clip(url)}: ${never}, never opened`;
    if (this.allows(u.hostname)) return null;
    if (place === 'sub-frame' && !isInternalHost(u.hostname)) return null;
    const host = normalizeHost(u.hostname);
    return `host ${host} is not allowed on this agent (allowed: ${this.describe()}); its operator allows it with --allow-host ${host}`;
  }

  /** After a document loaded: why the address it came from is not allowed for `host` at `place`, or null. */
  addressProblem(host: string, ip: string, place: UrlPlace): string | null {
    if (ip === '') return null;
    const never = neverAllowedReason(ip);
    if (never !== null) return `${normalizeHost(host)} resolved to ${ip}: ${never}, never opened`;
    if (place === 'sub-frame' && isInternalHost(ip) && !this.allows(host)) {
      return `a frame on ${normalizeHost(host)} resolved to the internal address ${ip}; its operator allows it with --allow-host ${normalizeHost(host)}`;
    }
    return null;
  }
}

/** A URL for a message: at most 200 characters, without its query (it may hold a token). */
export function clip(url: string): string {
  const noQuery = url.replace(/[?#].*$/s, '');
  return noQuery.length > 200 ? `${noQuery.slice(0, 200)}…` : noQuery;
}
