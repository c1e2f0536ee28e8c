import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  ERROR_CODES,
  EVIDENCE_BUDGET_BYTES,
  EVIDENCE_BUDGET_SESSIONS,
  EvidenceFileNameSchema,
  IdSchema,
  ProbeError,
  Redactor,
  describeError,
  isTempFile,
  mkdirPrivate,
  removeTempFiles,
  syncDir,
  writeFileDurable,
  type EvidenceAck,
  type EvidenceUpload,
} from '@userprobe/shared';
import type { AgentInfo } from './sink.js';
import { RESULT_FILES, runDir } from './run-folder.js';
import { redactEvidenceFile } from './evidence-redact.js';
import { RunQueue } from './run-queue.js';
import { holdsSession, type RunRegistry } from '../run/run-registry.js';

/*
 * Evidence of failed sessions (screenshots, HAR, console log), written where
 * the run's results are: `<out>/<runId>/evidence/<sessionId>/<file>`. A
 * per-run budget (sessions and bytes) keeps a failing 200-session run from
 * filling the disk; what it leaves out is counted for the summary.
 *
 * Each file is written durably (writeFileDurable: a temporary name, fsync,
 * rename), then its folder and the evidence folder are fsynced, before the
 * upload is acknowledged; temporary files an interrupted write left are
 * removed when a run's evidence is loaded. A resent upload (lost ack) of a
 * session already stored is answered with what is stored, counted once.
 * Uploads of one run are handled one at a time (RunQueue).
 *
 * Whose budget: evidence is kept only for runs this controller knows — its
 * own (`setBudget`), or any whose results folder holds a run.json (a run
 * started on this results folder, also by a previous controller process:
 * spool replays) — and only from the agents run.json lists for the run. An
 * upload for any other run id, or from another agent, is refused for good, so
 * a sender cannot mint fresh budgets by making up run ids, nor spend another
 * agent's run.
 *
 * Secrets: agents redact their evidence before it leaves them; each file is
 * redacted again here before it is counted and written (redactEvidenceFile,
 * with the values in `secrets`). Folders are 0700 and files 0600.
 */

export const EVIDENCE_DIR = 'evidence';
/** Below this many bytes left, the budget counts as used up (agents stop capturing). */
export const EVIDENCE_MIN_USEFUL_BYTES = 256 * 1024;

export interface EvidenceBudget {
  readonly maxSessions: number;
  readonly maxBytes: number;
}

export const DEFAULT_EVIDENCE_BUDGET: EvidenceBudget = Object.freeze({ maxSessions: EVIDENCE_BUDGET_SESSIONS, maxBytes: EVIDENCE_BUDGET_BYTES });

export interface EvidenceUsage {
  /** Sessions with evidence stored, and their bytes. */
  readonly sessions: number;
  readonly bytes: number;
  /** Uploads the budget left out entirely, and files left out (of those and of partly stored ones), with their bytes. */
  readonly skippedSessions: number;
  readonly skippedFiles: number;
  readonly skippedBytes: number;
}

const NO_USAGE: EvidenceUsage = Object.freeze({ sessions: 0, bytes: 0, skippedSessions: 0, skippedFiles: 0, skippedBytes: 0 });

export interface EvidenceDecision {
  /** File names to store, in upload order. */
  readonly store: readonly string[];
  readonly skip: readonly string[];
  /** After this upload, is the budget used up? */
  readonly exhausted: boolean;
  readonly usage: EvidenceUsage;
}

/**
 * Pure: the run's budget and usage + one session's files → which to store.
 * No session slot left: nothing is stored. Otherwise files are taken in order
 * while they fit in the bytes left (a big HAR that does not fit is skipped,
 * the small console log after it may still be stored).
 */
export function admitEvidence(
  budget: EvidenceBudget,
  usage: EvidenceUsage,
  files: ReadonlyArray<{ readonly name: string; readonly bytes: number }>,
): EvidenceDecision {
  const store: string[] = [];
  const skip: string[] = [];
  let bytes = usage.bytes;
  let skippedBytes = 0;
  const slot = usage.sessions < budget.maxSessions;
  for (const f of files) {
    if (slot && bytes + f.bytes <= budget.maxBytes) {
      store.push(f.name);
      bytes += f.bytes;
    } else {
      skip.push(f.name);
      skippedBytes += f.bytes;
    }
  }
  const sessions = usage.sessions + (store.length > 0 ? 1 : 0);
  const next: EvidenceUsage = {
    sessions,
    bytes,
    skippedSessions: usage.skippedSessions + (store.length === 0 ? 1 : 0),
    skippedFiles: usage.skippedFiles + skip.length,
    skippedBytes: usage.skippedBytes + skippedBytes,
  };
  const exhausted = sessions >= budget.maxSessions || budget.maxBytes - bytes < EVIDENCE_MIN_USEFUL_BYTES;
  return { store, skip, exhausted, usage: next };
}

interface RunEvidence {
  usage: EvidenceUsage;
  /** Session → relative paths stored. */
  readonly stored: Map<string, string[]>;
  /** Sessions whose evidence the budget left out entirely (a resend is not counted twice). */
  readonly skipped: Set<string>;
  budget: EvidenceBudget;
}

export interface EvidenceStoreOptions {
  readonly outDir: string;
  readonly log: Logger;
  /** For runs without their own (`controller serve` taking replays). */
  readonly defaultBudget?: EvidenceBudget;
  /** Values redacted from every stored text file wherever they appear (the agents' token). */
  readonly secrets?: readonly string[];
  /** Values redacted from the stored files of one agent's uploads too (its own token, derived from the master). */
  readonly agentSecrets?: (agentId: string) => readonly string[];
  /**
   * The runs' assignments (run-state.json): when the run has one, evidence is
   * kept only from an agent that holds the session (reassigned sessions
   * included); else run.json's agent list decides.
   */
  readonly runs?: RunRegistry;
}

/** A session id that names a folder: an id, and not `.` or `..`. */
function sessionFolderName(sessionId: string): string | null {
  return IdSchema.safeParse(sessionId).success && sessionId !== '.' && sessionId !== '..' ? sessionId : null;
}

export class EvidenceStore {
  readonly #o: EvidenceStoreOptions;
  readonly #log: Logger;
  readonly #runs = new Map<string, Promise<RunEvidence>>();
  readonly #budgets = new Map<string, EvidenceBudget>();
  readonly #queue = new RunQueue();
  readonly #redactor: Redactor;
  /** The agents of runs whose run.json lists them (they do not change once written). */
  readonly #agents = new Map<string, ReadonlySet<string>>();

  constructor(o: EvidenceStoreOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'evidence' });
    this.#redactor = new Redactor(o.secrets ?? []);
  }

  /** The budget of a run (set before its agents start sending). */
  setBudget(runId: string, budget: EvidenceBudget): void {
    this.#budgets.set(runId, budget);
    void this.#runs.get(runId)?.then((r) => {
      r.budget = budget;
    });
  }

  async usage(runId: string): Promise<EvidenceUsage & { readonly budget: EvidenceBudget }> {
    const r = await this.#serial(runId, () => this.#state(runId));
    return { ...r.usage, budget: r.budget };
  }

  /** Store (or skip by budget) one validated upload; the reply is the agent's ack. */
  handle(u: EvidenceUpload, agent: AgentInfo): Promise<EvidenceAck> {
    return this.#serial(u.runId, async () => {
      const log = this.#log.child({ runId: u.runId, agentId: agent.agentId, sessionId: u.sessionId });
      const folder = sessionFolderName(u.sessionId);
      if (folder === null) {
        return {
          ok: false,
          retryable: false,
          code: ERROR_CODES.MESSAGE_INVALID,
          reason: `session id "${u.sessionId}" cannot name an evidence folder (not "." or "..")`,
        };
      }
      for (const f of u.files) EvidenceFileNameSchema.parse(f.name); // validated by the hub already; a second look costs nothing
      let run: RunEvidence;
      try {
        const assigned = await this.#o.runs?.get(u.runId);
        if (assigned && !holdsSession(assigned, agent.agentId, u.sessionId)) {
          log.warn('evidence for a session the agent was not assigned refused');
          return {
            ok: false,
            retryable: false,
            code: ERROR_CODES.MESSAGE_INVALID,
            reason: `session ${u.sessionId} of run ${u.runId} was not assigned to agent ${agent.agentId}; it keeps evidence only of its own sessions`,
          };
        }
        const known = assigned ? 'any' : await this.#known(u.runId);
        if (known === 'unknown') {
          log.warn('evidence for a run this controller does not know refused');
          return {
            ok: false,
            retryable: false,
            code: ERROR_CODES.RUN_UNKNOWN,
            reason: `run ${u.runId} is not a run of this controller (no results folder with run.json under ${this.#o.outDir}); evidence is kept only for known runs`,
          };
        }
        if (known !== 'any' && !known.has(agent.agentId)) {
          log.warn('evidence from an agent not in the run refused');
          return {
            ok: false,
            retryable: false,
            code: ERROR_CODES.RUN_UNKNOWN,
            reason: `agent ${agent.agentId} is not one of run ${u.runId}'s agents; it keeps evidence only of its own runs`,
          };
        }
        run = await this.#state(u.runId);
      } catch (e) {
        return this.#failure(log, e, u.runId);
      }
      const already = run.stored.get(u.sessionId);
      if (already) return { ok: true, stored: already, skipped: [], exhausted: this.#exhausted(run) };
      if (run.skipped.has(u.sessionId)) return { ok: true, stored: [], skipped: u.files.map((f) => f.name), exhausted: this.#exhausted(run) };
      const redactor = this.#o.agentSecrets ? new Redactor([...(this.#o.secrets ?? []), ...this.#o.agentSecrets(agent.agentId)]) : this.#redactor;
      const files = u.files.map((f) => redactEvidenceFile(f, redactor));
      const d = admitEvidence(
        run.budget,
        run.usage,
        files.map((f) => ({ name: f.name, bytes: f.data.byteLength })),
      );
      const dir = join(runDir(this.#o.outDir, u.runId), EVIDENCE_DIR, folder);
      const paths = d.store.map((name) => `${EVIDENCE_DIR}/${folder}/${name}`);
      if (d.store.length) {
        try {
          await mkdirPrivate(dir);
          for (const f of files) if (d.store.includes(f.name)) await writeFileDurable(join(dir, f.name), f.data, { syncDir: false });
          await syncDir(dir);
          await syncDir(join(dir, '..'));
        } catch (e) {
          return this.#failure(log, e, u.runId);
        }
        run.stored.set(u.sessionId, paths);
      } else {
        run.skipped.add(u.sessionId);
      }
      run.usage = d.usage;
      if (d.skip.length) log.info({ skipped: d.skip, budget: run.budget, usage: run.usage }, "evidence left out by the run's budget");
      else log.debug({ files: paths }, 'evidence stored');
      return { ok: true, stored: paths, skipped: [...d.skip], exhausted: d.exhausted };
    });
  }

  /**
   * Is the run known here, and whose is it? Its agents when its run.json lists
   * them; 'any' for this controller's own run before its run.json is written;
   * 'unknown' otherwise (looked up again next time: a run may start later).
   */
  async #known(runId: string): Promise<ReadonlySet<string> | 'any' | 'unknown'> {
    const cached = this.#agents.get(runId);
    if (cached) return cached;
    const text = await readFile(join(runDir(this.#o.outDir, runId), RESULT_FILES.run), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (text === null) return this.#budgets.has(runId) ? 'any' : 'unknown';
    let listed: unknown;
    try {
      listed = (JSON.parse(text) as { agents?: unknown }).agents;
    } catch {
      return 'any'; // a run.json we cannot read still says the run started here
    }
    if (!Array.isArray(listed)) return 'any';
    const agents = new Set(listed.map((a: unknown) => (a as { agentId?: unknown } | null)?.agentId).filter((id): id is string => typeof id === 'string'));
    this.#agents.set(runId, agents);
    return agents;
  }

  #exhausted(r: RunEvidence): boolean {
    return r.usage.sessions >= r.budget.maxSessions || r.budget.maxBytes - r.usage.bytes < EVIDENCE_MIN_USEFUL_BYTES;
  }

  #failure(log: Logger, e: unknown, runId: string): EvidenceAck {
    const d = describeError(e);
    const permanent = e instanceof ProbeError && e.code === ERROR_CODES.SINK_PERMANENT;
    log.error({ err: d, retryable: !permanent }, 'cannot store evidence; not acknowledged');
    this.#runs.delete(runId); // re-read what is on disk next time
    return {
      ok: false,
      retryable: !permanent,
      code: permanent ? d.code : ERROR_CODES.SINK_UNAVAILABLE,
      reason: `evidence could not be written under ${this.#o.outDir}: ${d.message}`,
    };
  }

  #serial<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(runId, fn);
  }

  #state(runId: string): Promise<RunEvidence> {
    let p = this.#runs.get(runId);
    if (!p) {
      p = this.#load(runId);
      this.#runs.set(runId, p);
      p.catch(() => {
        if (this.#runs.get(runId) === p) this.#runs.delete(runId);
      });
    }
    return p;
  }

  /** What a previous controller process stored for the run counts against its budget too. */
  async #load(runId: string): Promise<RunEvidence> {
    const budget = this.#budgets.get(runId) ?? this.#o.defaultBudget ?? DEFAULT_EVIDENCE_BUDGET;
    const root = join(runDir(this.#o.outDir, runId), EVIDENCE_DIR);
    const stored = new Map<string, string[]>();
    let bytes = 0;
    const sessions = await readdir(root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    for (const s of sessions) {
      if (!s.isDirectory()) continue;
      const leftovers = await removeTempFiles(join(root, s.name));
      if (leftovers.length) this.#log.warn({ runId, sessionId: s.name, removed: leftovers }, 'removed temporary files an interrupted evidence write left');
      const names = (await readdir(join(root, s.name))).filter((n) => !isTempFile(n) && EvidenceFileNameSchema.safeParse(n).success);
      if (!names.length) continue;
      for (const n of names) bytes += (await stat(join(root, s.name, n))).size;
      stored.set(
        s.name,
        names.map((n) => `${EVIDENCE_DIR}/${s.name}/${n}`),
      );
    }
    return { usage: { ...NO_USAGE, sessions: stored.size, bytes }, stored, skipped: new Set(), budget };
  }
}
