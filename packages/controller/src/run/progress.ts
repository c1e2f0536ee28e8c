import { SESSION_PHASES, type SessionPhase } from '@userprobe/shared';

export const PROGRESS_TTY_INTERVAL_MS = 250;
export const PROGRESS_PLAIN_INTERVAL_MS = 2_000;

export interface ProgressOutput {
  write(s: string): unknown;
  readonly isTTY?: boolean | undefined;
}

export interface Progress {
  note(line: string): void;
  session(agentName: string, phase: SessionPhase): void;
  /** Declare the agents and their planned share, in display order. */
  plan(shares: readonly { name: string; sessions: number }[]): void;
  /** Sessions moved from one agent's share to another's (a lost agent's share reassigned). */
  reshare(from: string, to: string, sessions: number): void;
  /** Print the final counts now and stop the timer. */
  flush(): void;
}

/** Per agent: its planned share, and its sessions by the phase they reached (session:progress). */
type Counts = { planned: number } & Record<SessionPhase, number>;

const noCounts = (planned: number): Counts => ({ planned, ...(Object.fromEntries(SESSION_PHASES.map((p) => [p, 0])) as Record<SessionPhase, number>) });

/**
 * Live progress on stderr: sessions started/finished/failed/aborted per agent, and
 * waiting lines. On a TTY one status line is redrawn at most every
 * TTY_INTERVAL_MS; otherwise plain lines at most every PLAIN_INTERVAL_MS.
 * Notes (agent connected, disconnected…) are always printed as plain lines.
 */
export class ProgressReporter implements Progress {
  readonly #counts = new Map<string, Counts>();
  #timer: NodeJS.Timeout | null = null;
  #lastLine = '';
  #drawn = false;
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

  plan(shares: readonly { name: string; sessions: number }[]): void {
    for (const s of shares) this.#counts.set(s.name, noCounts(s.sessions));
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

  /** The one-line state, e.g. `local-1 3/3 started, 2 done, 1 failed | local-2 …` (`, N aborted` once any was). */
  line(): string {
    return [...this.#counts]
      .map(
        ([name, c]) =>
          `${name} ${c.started}${c.planned ? `/${c.planned}` : ''} started, ${c.finished} done, ${c.failed} failed${c.aborted ? `, ${c.aborted} aborted` : ''}`,
      )
      .join(' | ');
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
    const line = `sessions: ${this.line()}`;
    if (this.#tty) {
      this.#out.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
      this.#drawn = !final;
    } else if (line !== this.#lastLine || final) {
      this.#out.write(line + '\n');
    }
    this.#lastLine = line;
  }

  #clearLine(): void {
    if (this.#tty && this.#drawn) {
      this.#out.write('\r\x1b[K');
      this.#drawn = false;
      if (this.#lastLine) this.#schedule();
    }
  }
}
