import type { RequestPattern } from '@userprobe/shared';

/** A profile `RequestPattern` compiled once: regex on the full URL, optional method. */
export interface CompiledPattern {
  readonly name: string;
  readonly url: RegExp;
  readonly method: string | undefined;
}

export function compilePattern(name: string, pattern: RequestPattern): CompiledPattern {
  return { name, url: new RegExp(pattern.url), method: pattern.method };
}

/** True when a request (full URL, HTTP method) matches the pattern. Pure. */
export function matchesPattern(p: CompiledPattern, url: string, method: string): boolean {
  if (p.method !== undefined && p.method !== method.toUpperCase()) return false;
  return p.url.test(url);
}

/** The URL as logs and errors may show it: no query string, no fragment, no credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split(/[?#]/, 1)[0] ?? '';
  }
}
