import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeError, isTempFile, mkdirPrivate, removeTempFiles, writeJsonDurable } from '@userprobe/shared';
import type { SlackMessage } from './slack-message.js';

/**
 * Slack messages, durable and in order: each is written to the outbox folder
 * before anything is sent, sent one at a time oldest first, and removed only
 * once Slack accepted it. 429 waits as long as Retry-After says, 5xx and
 * network errors back off (doubling up to a minute) and try the same message
 * again, so a Slack outage delays messages and loses none; rounds never wait
 * on it. A 4xx other than 429 (a wrong or revoked webhook) is set aside in
 * `rejected/` and logged: retrying would not help. The webhook URL is a
 * secret: never logged, never written (only its host is named).
 */
export const OUTBOX_RETRY_MIN_MS = 1_000;
export const OUTBOX_RETRY_MAX_MS = 60_000;
export const SLACK_TIMEOUT_MS = 10_000;

export interface OutboxOptions {
  readonly dir: string;
  /** The webhook URL (null: messages are kept until one is configured). */
  readonly webhookUrl: string | null;
  readonly log: Logger;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

const NAME = /^(\d{12})\.json$/;

export class SlackOutbox {
  readonly #o: OutboxOptions;
  readonly #log: Logger;
  #next = 0;
  #draining: Promise<void> | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;
  #sent = 0;

  private constructor(o: OutboxOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'slack', webhookHost: o.webhookUrl === null ? null : new URL(o.webhookUrl).host });
  }

  static async open(o: OutboxOptions): Promise<SlackOutbox> {
    await mkdirPrivate(o.dir);
    await removeTempFiles(o.dir);
    const box = new SlackOutbox(o);
    const ids = await box.#ids();
    box.#next = ids.length ? ids.at(-1)! + 1 : 0;
    if (ids.length) box.#log.info({ pending: ids.length }, 'Slack messages left from before: sending them first, in order');
    box.#kick();
    return box;
  }

  /** Messages accepted by Slack since open. */
  get sent(): number {
    return this.#sent;
  }

  async pending(): Promise<number> {
    return (await this.#ids()).length;
  }

  /** Durable on return; sent in order behind the ones before it. */
  async enqueue(m: SlackMessage): Promise<void> {
    const id = this.#next++;
    await writeJsonDurable(join(this.#o.dir, `${String(id).padStart(12, '0')}.json`), m);
    this.#kick();
  }

  /** Stop sending (what is left stays in the outbox for the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#draining;
  }

  /** Resolves once the outbox is empty (or stopped). */
  async idle(): Promise<void> {
    while (!this.#stopped && (await this.#ids()).length > 0) await new Promise((r) => setTimeout(r, 50));
  }

  async #ids(): Promise<number[]> {
    const names = await readdir(this.#o.dir).catch(() => [] as string[]);
    return names
      .filter((n) => !isTempFile(n))
      .map((n) => NAME.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  #kick(): void {
    if (this.#draining !== null || this.#stopped || this.#o.webhookUrl === null) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  async #drain(): Promise<void> {
    let delay = this.#o.retryMinMs ?? OUTBOX_RETRY_MIN_MS;
    for (;;) {
      if (this.#stopped) return;
      const [id] = await this.#ids();
      if (id === undefined) return;
      const file = join(this.#o.dir, `${String(id).padStart(12, '0')}.json`);
      let body: string;
      try {
        body = await readFile(file, 'utf8');
      } catch (e) {
        this.#log.error({ err: describeError(e), file }, 'unreadable Slack message set aside');
        await this.#setAside(file);
        continue;
      }
      const out = await this.#post(body);
      if (out.kind === 'sent') {
        await rm(file, { force: true });
        this.#sent += 1;
        delay = this.#o.retryMinMs ?? OUTBOX_RETRY_MIN_MS;
        continue;
      }
      if (out.kind === 'rejected') {
        this.#log.error({ status: out.status, file }, 'Slack refused the message for good (check the webhook URL); it is kept in rejected/');
        await this.#setAside(file);
        continue;
      }
      const wait = out.retryAfterMs ?? delay;
      this.#log.warn({ status: out.status, retryInMs: wait, reason: out.reason }, 'Slack did not take the message; trying again (it stays queued, in order)');
      await this.#sleep(wait);
      delay = Math.min(delay * 2, this.#o.retryMaxMs ?? OUTBOX_RETRY_MAX_MS);
    }
  }

  async #post(
    body: string,
  ): Promise<{ kind: 'sent' } | { kind: 'rejected'; status: number } | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }> {
    try {
      const res = await fetch(this.#o.webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { kind: 'sent' };
      if (res.status === 429 || res.status >= 500) {
        const ra = Number(res.headers.get('retry-after'));
        return {
          kind: 'retry',
          status: res.status,
          retryAfterMs: Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 15 * 60_000) : null,
          reason: `HTTP ${res.status}`,
        };
      }
      return { kind: 'rejected', status: res.status };
    } catch (e) {
      return { kind: 'retry', status: null, retryAfterMs: null, reason: describeError(e).message.replace(this.#o.webhookUrl!, '(webhook)') };
    }
  }

  async #setAside(file: string): Promise<void> {
    const dir = join(this.#o.dir, 'rejected');
    await mkdirPrivate(dir);
    await rename(file, join(dir, file.split('/').at(-1)!)).catch(() => rm(file, { force: true }));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
    });
  }
}
