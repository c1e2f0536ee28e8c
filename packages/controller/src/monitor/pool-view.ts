import { EventEmitter } from 'node:events';
import type { Capacity } from '@userprobe/shared';
import type { AgentHandle, AgentPool, AgentPoolEvents } from '../hub/agent-pool.js';

/*
 * A run's view of the standing fleet: only the agents the round (or the load
 * test) may use, each with the capacity it may use. The coordinator plans and
 * waits over this view exactly as over the whole hub; what those agents send
 * reaches the run as before (events re-emitted, filtered to the view's
 * agents). `close()` detaches it from the hub when the run is over.
 */

export interface PoolViewOptions {
  /** The agents of the view; null: every connected agent. */
  readonly agentIds: ReadonlySet<string> | null;
  /** The capacity this view gives an agent (e.g. what checks leave of it); default its own. */
  readonly capacity?: (agent: AgentHandle) => Capacity;
}

export class PoolView extends EventEmitter<AgentPoolEvents> implements AgentPool {
  readonly #pool: AgentPool;
  readonly #opts: PoolViewOptions;
  readonly #detach: (() => void)[] = [];

  constructor(pool: AgentPool, opts: PoolViewOptions) {
    super();
    this.#pool = pool;
    this.#opts = opts;
    this.#forward(
      'agent:connected',
      (h) => h.info.agentId,
      (h) => [this.#present(h)],
    );
    this.#forward('agent:disconnected', (g) => g.agentId);
    this.#forward('progress', (id) => id);
    this.#forward('finished', (id) => id);
    this.#forward('status', (id) => id);
    this.#forward('batch', (e) => e.agentId);
  }

  agents(): readonly AgentHandle[] {
    return this.#pool
      .agents()
      .filter((a) => this.#inView(a.info.agentId))
      .map((a) => this.#present(a));
  }

  agent(agentId: string): AgentHandle | undefined {
    const h = this.#inView(agentId) ? this.#pool.agent(agentId) : undefined;
    return h && this.#present(h);
  }

  close(): void {
    for (const d of this.#detach.splice(0)) d();
    this.removeAllListeners();
  }

  #inView(agentId: string): boolean {
    return this.#opts.agentIds === null || this.#opts.agentIds.has(agentId);
  }

  #forward<E extends keyof AgentPoolEvents>(
    event: E,
    agentOf: (...args: AgentPoolEvents[E]) => string,
    map: (...args: AgentPoolEvents[E]) => AgentPoolEvents[E] = (...args) => args,
  ): void {
    const fn = (...args: AgentPoolEvents[E]): void => {
      if (this.#inView(agentOf(...args))) this.emit(event, ...(map(...args) as Parameters<typeof this.emit<E>>[1][] as never));
    };
    this.#pool.on(event, fn as never);
    this.#detach.push(() => this.#pool.off(event, fn as never));
  }

  #present(h: AgentHandle): AgentHandle {
    if (!this.#opts.capacity) return h;
    const capacity = this.#opts.capacity(h);
    return {
      info: { ...h.info, capacity },
      hello: { ...h.hello, capacity },
      assign: (a, t) => h.assign(a, t),
      abort: (a) => h.abort(a),
      resume: (r, t) => h.resume(r, t),
    };
  }
}
