import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

/*
 * An independent reference for absolute timings: a separate Node process
 * (reference-worker.mjs) that times the same delayed request the browser
 * makes. It shares nothing with the instrument under test (no CDP, no
 * collector), and, like the browser's network process, it sleeps through the
 * delay — so whatever this machine adds to a delayed response at this moment
 * (a late wake-up on some VMs, a busy core) is in its figure too, and a
 * constant error in a collector is not.
 */

export interface HttpProbe {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface SocketIoAckProbe {
  readonly url: string;
  readonly path: string;
  readonly auth?: Readonly<Record<string, unknown>>;
  readonly event: string;
  readonly payload?: unknown;
  readonly transports?: readonly string[];
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class ReferenceClient {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #next = 0;

  constructor() {
    this.#child = fork(fileURLToPath(new URL('./reference-worker.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`reference client: ${m.error ?? 'failed'}`));
    });
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`reference client exited (${String(code)})`));
      this.#pending.clear();
    });
  }

  #call<T>(kind: string, args: unknown): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, kind, args });
    });
  }

  /** Elapsed ms from sending the request to the last byte of the response. */
  async http(p: HttpProbe): Promise<number> {
    return (await this.#call<{ ms: number }>('http', p)).ms;
  }

  /**
   * The steady reference for a delayed request: one untimed request to `warm` first, on the
   * same kept-alive connection (a browser page's requests reuse a connection its page already
   * opened; the server closes an idle one within seconds, so between rounds it is gone), then
   * the median elapsed ms of `times` timed requests, one after the other. One late wake-up of
   * this process moves the round's reference no more than it moves a median.
   */
  async httpSteady(p: HttpProbe, o: { readonly warm: HttpProbe; readonly times: number }): Promise<number> {
    await this.http(o.warm);
    const ms: number[] = [];
    for (let i = 0; i < o.times; i++) ms.push(await this.http(p));
    return median(ms);
  }

  /** Connects (untimed), then the elapsed ms of one acked emit. */
  async socketIoAck(p: SocketIoAckProbe): Promise<number> {
    return (await this.#call<{ ms: number }>('socketioAck', p)).ms;
  }

  close(): void {
    this.#child.disconnect();
  }
}
