import { SESSION_PHASES, type SessionPhase } from '@userprobe/shared';
import type { LiveView } from './live-run.js';
import { thresholdObservation } from './thresholds.js';

export const PROGRESS_TTY_INTERVAL_MS = 250;
export const PROGRESS_PLAIN_INTERVAL_MS = 2_000;

export interface ProgressOutput {
  write(s: string): unknown;
  readonly isTTY?: boolean | undefined;
}

export interface Progress {
  note(line: string): void;
  session(agentName: string, phase: SessionPhase): void;
  /** Declare the agents and their planned share, in display order; `repeating`: each share is session slots that repeat (--duration). */
  plan(shares: readonly { name: string; sessions: number }[], opts?: { repeating?: boolean }): void;
  /** Where the block's live lines come from (core metrics so far, thresholds now); read at each redraw. */
  live?(view: () => LiveView | null): void;
  /** What the live lines show changed (a batch arrived): redraw soon. */
  refresh?(): void;
  /** Sessions moved from one agent's share to another's (a lost agent's share reassigned). */
  reshare(from: string, to: string, sessions: number): void;
  /** Print the final counts now and stop the timer. */
  flush(): void;
}

/** Per agent: its planned share, and its sessions by the phase they reached (session:progress). */
type Counts = { planned: number } & Record<SessionPhase, number>;

const noCounts = (planned: number): Counts => ({ planned, ...(Object.fromEntries(SESSION_PHASES.map((p) => [p, 0])) as Record<SessionPhase, number>) });

/**
 * Live progress on stderr: sessions started/finished/failed/aborted per agent
 * and for the whole run, then (once sessions have ended) p50/p95 so far of the
 * scenario's core metrics and each threshold's state now. On a TTY the block is
 * redrawn in place at most every TTY_INTERVAL_MS; otherwise it is printed as
 * plain lines (CI logs) at most every PLAIN_INTERVAL_MS, when it changed.
 * Notes (agent connected, disconnected…) are always printed as plain lines above it.
 */
export class ProgressReporter implements Progress {
  readonly #counts = new Map<string, Counts>();
  #timer: NodeJS.Timeout | null = null;
  #lastBlock = '';
  /** Lines of the block drawn on the TTY (0: none). */
  #drawn = 0;
  #repeating = false;
  #live: (() => LiveView | null) | null = null;
  readonly #tty: boolean;
  readonly #out: ProgressOutput;
  readonly #quiet: boolean;

  constructor(out: ProgressOutput, quiet = false) {
    this.#out = out;
    this.#quiet = quiet;
    this.#tty = out.isTTY === true;
  }

  note(line: string): void {
    if (this.#quiet) return;
    this.#clearLine();
    this.#out.write(line + '\n');
  }

  plan(shares: readonly { name: string; sessions: number }[], opts: { repeating?: boolean } = {}): void {
    for (const s of shares) this.#counts.set(s.name, noCounts(s.sessions));
    this.#repeating = opts.repeating ?? false;
  }

  live(view: () => LiveView | null): void {
    this.#live = view;
  }

  refresh(): void {
    if (this.#live !== null) this.#schedule();
  }

  reshare(from: string, to: string, sessions: number): void {
    const get = (name: string): Counts => {
      let c = this.#counts.get(name);
      if (!c) this.#counts.set(name, (c = noCounts(0)));
      return c;
    };
    const f = get(from);
    f.planned = Math.max(f.started, f.planned - sessions);
    get(to).planned += sessions;
    this.#schedule();
  }

  session(agentName: string, phase: SessionPhase): void {
    let c = this.#counts.get(agentName);
    if (!c) this.#counts.set(agentName, (c = noCounts(0)));
    c[phase]++;
    this.#schedule();
  }

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#counts.size) this.#render(true);
  }

  /**
   * The sessions line, e.g. `local-1 3/3 started, 2 done, 1 failed | local-2 …` (`, N aborted` once any
   * was), led by the whole run's counts when there are several agents. With --duration a share is
   * session slots that repeat: `local-1 12 started (2 slots, repeating), 10 done, 0 failed`.
   */
  line(): string {
    const part = (name: string, c: Counts) => {
      const started = this.#repeating
        ? `${c.started} started${c.planned ? ` (${c.planned} slot${c.planned === 1 ? '' : 's'}, repeating)` : ''}`
        : `${c.started}${c.planned ? `/${c.planned}` : ''} started`;
      return `${name} ${started}, ${c.finished} done, ${c.failed} failed${c.aborted ? `, ${c.aborted} aborted` : ''}`;
    };
    const parts = [...this.#counts].map(([name, c]) => part(name, c));
    if (this.#counts.size > 1) {
      const all = noCounts(0);
      for (const c of this.#counts.values()) for (const k of Object.keys(all) as (keyof Counts)[]) all[k] += c[k];
      parts.unshift(part('all', all));
    }
    return parts.join(' | ');
  }

  /** The block: the sessions line, then the live lines (core metrics so far, thresholds now) once there are any. */
  block(): string[] {
    const lines = [`sessions: ${this.line()}`];
    const v = this.#live?.() ?? null;
    if (v === null) return lines;
    const measured = v.metrics.filter((m) => m.count > 0);
    if (measured.length > 0) {
      const ms = (x: number | null) => (x === null ? '-' : x.toFixed(0));
      lines.push(
        `  so far, p50/p95 ms: ${measured.map((m) => `${m.metric} ${ms(m.p50)}/${ms(m.p95)}`).join(' · ')} (${Math.max(...measured.map((m) => m.count))} session(s))`,
      );
    }
    if (v.thresholds.length > 0) {
      const failing = v.thresholds.filter((r) => !r.ok && r.observed !== null);
      const waiting = v.thresholds.filter((r) => r.observed === null).length;
      lines.push(
        `  thresholds now: ${v.thresholds.length - failing.length - waiting} passing, ${failing.length} failing${waiting ? `, ${waiting} without values yet` : ''}` +
          (failing.length ? ` — ${failing.map((r) => `${r.threshold} (${thresholdObservation(r)})`).join('; ')}` : ''),
      );
    }
    return lines;
  }

  #schedule(): void {
    if (this.#timer || this.#quiet) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#render(false);
      },
      this.#tty ? PROGRESS_TTY_INTERVAL_MS : PROGRESS_PLAIN_INTERVAL_MS,
    );
    this.#timer.unref();
  }

  #render(final: boolean): void {
    if (this.#quiet) return;
    const lines = this.block();
    const text = lines.join('\n');
    if (this.#tty) {
      // Back to the block's first line, clear to the end of the screen, draw it again.
      this.#out.write(`${this.#erase()}${text}${final ? '\n' : ''}`);
      this.#drawn = final ? 0 : lines.length;
    } else if (text !== this.#lastBlock || final) {
      this.#out.write(text + '\n');
    }
    this.#lastBlock = text;
  }

  /** The escape sequence that erases the block drawn on the TTY ('' when none is). */
  #erase(): string {
    if (this.#drawn === 0) return '\r\x1b[K';
    return `${this.#drawn > 1 ? `\x1b[${this.#drawn - 1}F` : '\r'}\x1b[J`;
  }

  #clearLine(): void {
    if (this.#tty && this.#drawn > 0) {
      this.#out.write(this.#erase());
      this.#drawn = 0;
      if (this.#lastBlock) this.#schedule();
    }
  }
}
