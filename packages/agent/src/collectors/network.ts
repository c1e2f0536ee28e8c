import type { Protocol } from 'puppeteer-core';
import { ERROR_CODES, StepError, type RequestPattern } from '@userprobe/shared';
import type { CdpNode, CdpTargetTree } from './cdp-tree.js';
import { settleWithin, type WaitOptions } from './deadline.js';
import { compilePattern, matchesPattern, redactUrl, type CompiledPattern } from './request-pattern.js';

/*
 * Every HTTP request of a page and its child targets (the cross-origin widget
 * iframe included), from CDP Network events. Timestamps are CDP monotonic
 * seconds (the browser's clock, shared by all its processes).
 *
 *   api_* metrics  = (loadingFinished.timestamp − requestWillBeSent.timestamp) × 1000
 *                    of the matching request: request about to be sent → last byte of
 *                    the response body received, as the page's network stack saw it.
 *   serverWaitMs   = timing.receiveHeadersStart (or receiveHeadersEnd when absent)
 *                    − timing.sendEnd: request fully sent → response headers begin.
 */

export interface RequestRecord {
  /** `${sessionId}:${requestId}`: request ids are per target. */
  readonly key: string;
  readonly requestId: string;
  readonly sessionId: string;
  readonly targetType: string;
  readonly frameId: string | undefined;
  /** URL when first sent (redirects keep the record; `finalUrl` follows them). */
  readonly url: string;
  finalUrl: string;
  readonly method: string;
  readonly resourceType: string | undefined;
  /** requestWillBeSent timestamp, CDP monotonic seconds. */
  readonly sentAt: number;
  redirects: number;
  status?: number;
  responseAt?: number;
  serverWaitMs?: number;
  finishedAt?: number;
  failedAt?: number;
  errorText?: string;
  /** Names of the profile patterns this request matched. */
  readonly matches: readonly string[];
}

export interface RequestTiming {
  /** (loadingFinished − requestWillBeSent) × 1000. */
  readonly durationMs: number;
  readonly status: number;
  readonly serverWaitMs: number | undefined;
  /** Redacted URL (no query string). */
  readonly url: string;
  readonly record: RequestRecord;
}

export interface WaitForRequestOptions extends WaitOptions {
  /** Which matching request, 0-based in order sent (default 0: the first). */
  readonly nth?: number;
  /** Step name carried by a StepError (default `request <pattern>`). */
  readonly step?: string;
}

/** First HTTP status counted as an error outcome. */
const HTTP_ERROR_STATUS = 400;

/** Pure: server wait from CDP ResourceTiming, in ms; undefined when the timing lacks the marks. */
export function serverWaitFromTiming(t: Protocol.Network.ResourceTiming | undefined): number | undefined {
  if (!t || t.sendEnd < 0) return undefined;
  const headersStart = t.receiveHeadersStart !== undefined && t.receiveHeadersStart > 0 ? t.receiveHeadersStart : t.receiveHeadersEnd;
  if (headersStart < 0) return undefined;
  return headersStart - t.sendEnd;
}

type Outcome = { kind: 'pending' } | { kind: 'ok'; timing: RequestTiming } | { kind: 'error'; error: StepError };

/** Pure: what a wait on `rec` (for pattern `name`, step `step`) should do now. */
export function requestOutcome(rec: RequestRecord | undefined, name: string, step: string): Outcome {
  if (!rec) return { kind: 'pending' };
  const url = redactUrl(rec.finalUrl);
  if (rec.failedAt !== undefined) {
    return {
      kind: 'error',
      error: new StepError(step, `request '${name}' (${rec.method} ${url}) failed: ${rec.errorText ?? 'unknown network error'}`, {
        detail: { pattern: name, url, status: rec.status, errorText: rec.errorText },
      }),
    };
  }
  if (rec.finishedAt === undefined) return { kind: 'pending' };
  const status = rec.status ?? 0;
  if (status >= HTTP_ERROR_STATUS) {
    return {
      kind: 'error',
      error: new StepError(step, `request '${name}' (${rec.method} ${url}) answered HTTP ${status}; expected a status below ${HTTP_ERROR_STATUS}`, {
        detail: { pattern: name, url, status },
      }),
    };
  }
  return {
    kind: 'ok',
    timing: { durationMs: (rec.finishedAt - rec.sentAt) * 1000, status, serverWaitMs: rec.serverWaitMs, url, record: rec },
  };
}

export class NetworkCollector {
  readonly #patterns: CompiledPattern[];
  readonly #records = new Map<string, RequestRecord>();
  readonly #byPattern = new Map<string, RequestRecord[]>();
  readonly #waiters = new Set<() => void>();
  readonly #tree: CdpTargetTree;

  constructor(tree: CdpTargetTree, patterns: Readonly<Record<string, RequestPattern>>) {
    this.#tree = tree;
    this.#patterns = Object.entries(patterns).map(([name, p]) => compilePattern(name, p));
    for (const p of this.#patterns) this.#byPattern.set(p.name, []);
    tree.on('Network.requestWillBeSent', (ev, node) => this.#onRequest(ev, node));
    tree.on('Network.responseReceived', (ev, node) => {
      const rec = this.#records.get(`${node.sessionId}:${ev.requestId}`);
      if (!rec) return;
      rec.status = ev.response.status;
      rec.responseAt = ev.timestamp;
      rec.serverWaitMs = serverWaitFromTiming(ev.response.timing);
      this.#notify();
    });
    tree.on('Network.loadingFinished', (ev, node) => {
      const rec = this.#records.get(`${node.sessionId}:${ev.requestId}`);
      if (!rec) return;
      rec.finishedAt = ev.timestamp;
      this.#notify();
    });
    tree.on('Network.loadingFailed', (ev, node) => {
      const rec = this.#records.get(`${node.sessionId}:${ev.requestId}`);
      if (!rec) return;
      rec.failedAt = ev.timestamp;
      rec.errorText = ev.canceled ? `canceled (${ev.errorText})` : ev.errorText;
      this.#notify();
    });
  }

  /** All requests seen so far, in the order they were sent. */
  requests(): RequestRecord[] {
    return [...this.#records.values()];
  }

  /** Requests that matched the named pattern, in the order they were sent. */
  matched(name: string): readonly RequestRecord[] {
    return this.#byPattern.get(name) ?? [];
  }

  /**
   * The nth (default first) request matching the named profile pattern, once it has
   * finished. Rejects with a StepError naming the pattern when that request fails,
   * answers an HTTP error status (recorded in the error's detail), or does not
   * finish within `timeoutMs`.
   */
  waitForRequest(name: string, opts: WaitForRequestOptions): Promise<RequestTiming> {
    const step = opts.step ?? `request ${name}`;
    const nth = opts.nth ?? 0;
    const pattern = this.#patterns.find((p) => p.name === name);
    if (!pattern) {
      const known = this.#patterns.map((p) => p.name).join(', ');
      return Promise.reject(new StepError(step, `no request pattern named '${name}' in the profile; known patterns: ${known}`));
    }
    return settleWithin<RequestTiming>(
      step,
      opts,
      () => {
        const rec = this.matched(name)[nth];
        const state = rec
          ? rec.responseAt === undefined
            ? 'sent, no response yet'
            : `response ${rec.status ?? '?'} received, body not finished`
          : `no matching request seen; ${this.#tree.describe()}`;
        return new StepError(
          step,
          `request '${name}' (${pattern.method ?? 'any method'} /${pattern.url.source}/) did not finish within ${opts.timeoutMs} ms (${state}); raise the profile's timeouts.step if the target is this slow`,
          {
            code: ERROR_CODES.STEP_TIMEOUT,
            detail: { pattern: name, nth, status: rec?.status },
          },
        );
      },
      (resolve, reject) => {
        const check = (): void => {
          const o = requestOutcome(this.matched(name)[nth], name, step);
          if (o.kind === 'ok') resolve(o.timing);
          else if (o.kind === 'error') reject(o.error);
        };
        this.#waiters.add(check);
        check();
        return () => this.#waiters.delete(check);
      },
    );
  }

  #onRequest(ev: Protocol.Network.RequestWillBeSentEvent, node: CdpNode): void {
    const key = `${node.sessionId}:${ev.requestId}`;
    const existing = this.#records.get(key);
    if (existing) {
      // A redirect reuses the request id: same logical request, new URL.
      existing.redirects += 1;
      existing.finalUrl = ev.request.url;
      if (ev.redirectResponse) existing.status = ev.redirectResponse.status;
      return;
    }
    const matches = this.#patterns.filter((p) => matchesPattern(p, ev.request.url, ev.request.method)).map((p) => p.name);
    const rec: RequestRecord = {
      key,
      requestId: ev.requestId,
      sessionId: node.sessionId,
      targetType: node.type,
      frameId: ev.frameId,
      url: ev.request.url,
      finalUrl: ev.request.url,
      method: ev.request.method,
      resourceType: ev.type,
      sentAt: ev.timestamp,
      redirects: 0,
      matches,
    };
    this.#records.set(key, rec);
    for (const m of matches) this.#byPattern.get(m)?.push(rec);
    this.#notify();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}
