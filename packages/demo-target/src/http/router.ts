import type { IncomingMessage, ServerResponse } from 'node:http';

export type Params = Readonly<Record<string, string>>;
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params) => void | Promise<void>;
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Route {
  method: Method;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

/** Compile '/api/chats/:id/messages' into a regex with named segments. */
export function compilePattern(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const body = pattern
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${body}$`), names };
}

/** A tiny method + path router for one origin. Features add routes; unknown paths fall through. */
export class Router {
  readonly #routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler): void {
    const { regex, names } = compilePattern(pattern);
    this.#routes.push({ method, pattern, regex, names, handler });
  }

  /** The handler for a request and its params, or why there is none. */
  match(method: string, pathname: string): { handler: Handler; params: Params } | 'not-found' | 'method-not-allowed' {
    let pathMatched = false;
    for (const r of this.#routes) {
      const m = r.regex.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      const wanted = method === 'HEAD' ? 'GET' : method;
      if (r.method !== wanted) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]!);
      });
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method-not-allowed' : 'not-found';
  }
}
