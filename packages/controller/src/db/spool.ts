import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  ERROR_CODES,
  MetricBatchSchema,
  ProbeError,
  batchKey,
  isTempFile,
  mkdirPrivate,
  moveDurable,
  writeFileDurable,
  RoundReportSchema,
  type MetricBatch,
  type RoundReport,
} from '@userprobe/shared';
import type { AgentInfo, RunInfo, RunStatus, AlertRecord } from '../results/sink.js';
import type { BatchContext } from './rows.js';

/*
 * The controller's own on-disk spool, used while MySQL is unreachable: every
 * entry is a file written durably (writeFileDurable) before the batch it
 * holds is acknowledged; temporary files an interrupted write left are
 * removed at open. Entries drain in the order they were appended.
 * It lives under the results folder, so it is private as results are:
 * folders 0700, files 0600.
 */

export type SpoolEntry =
  | { readonly kind: 'batch'; readonly batch: MetricBatch; readonly agent: AgentInfo; readonly ctx: BatchContext }
  | { readonly kind: 'runStarted'; readonly run: RunInfo; readonly agents: readonly AgentInfo[] }
  | { readonly kind: 'runEnded'; readonly runId: string; readonly status: RunStatus; readonly endedAt: number }
  | { readonly kind: 'round'; readonly round: RoundReport }
  | { readonly kind: 'alert'; readonly alert: AlertRecord };

const FILE = /^(\d{16})\.json$/;
const REJECTED_DIR = 'rejected';

export class DurableSpool {
  readonly #ids: number[] = [];
  readonly #keys = new Map<number, string>();
  readonly #keySet = new Set<string>();
  #next = 1;

  readonly #log: Logger;

  private constructor(
    readonly dir: string,
    log: Logger,
  ) {
    this.#log = log;
  }

  /** Opens (creating) the folder and indexes entries a previous process left. */
  static async open(dir: string, log: Logger): Promise<DurableSpool> {
    const spool = new DurableSpool(dir, log.child({ component: 'mysql-spool' }));
    try {
      await mkdirPrivate(dir);
      for (const f of (await readdir(dir)).sort()) {
        if (isTempFile(f)) {
          await rm(join(dir, f), { force: true });
          continue;
        }
        const m = FILE.exec(f);
        if (m === null) continue;
        const id = Number(m[1]);
        spool.#ids.push(id);
        spool.#next = Math.max(spool.#next, id + 1);
        const entry = await spool.#read(id);
        if (entry?.kind === 'batch') spool.#index(id, entry);
      }
    } catch (e) {
      throw new ProbeError(ERROR_CODES.SPOOL_IO, `cannot use the controller's MySQL spool folder ${dir}: ${(e as Error).message}`, { cause: e });
    }
    if (spool.#ids.length > 0) spool.#log.info({ entries: spool.#ids.length, dir }, 'spooled entries from a previous run will drain to MySQL');
    return spool;
  }

  get size(): number {
    return this.#ids.length;
  }

  /** A batch with this key waits in the spool. */
  has(key: string): boolean {
    return this.#keySet.has(key);
  }

  async append(entry: SpoolEntry): Promise<void> {
    const id = this.#next++;
    try {
      await writeFileDurable(join(this.dir, fileName(id)), JSON.stringify(entry));
    } catch (e) {
      throw new ProbeError(ERROR_CODES.SPOOL_IO, `cannot write to the controller's MySQL spool ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    this.#ids.push(id);
    if (entry.kind === 'batch') this.#index(id, entry);
  }

  /** The oldest entry, or undefined when empty. An unreadable entry is moved to rejected/ and skipped. */
  async head(): Promise<SpoolEntry | undefined> {
    while (this.#ids.length > 0) {
      const entry = await this.#read(this.#ids[0]!);
      if (entry !== undefined) return entry;
      await this.reject('unreadable');
    }
    return undefined;
  }

  async removeHead(): Promise<void> {
    const id = this.#ids[0];
    if (id === undefined) return;
    await rm(join(this.dir, fileName(id)), { force: true });
    this.#forget(id);
  }

  /** Moves the head entry aside (it can never be stored), keeping it for an operator. */
  async reject(reason: string): Promise<void> {
    const id = this.#ids[0];
    if (id === undefined) return;
    await mkdirPrivate(join(this.dir, REJECTED_DIR));
    await moveDurable(join(this.dir, fileName(id)), join(this.dir, REJECTED_DIR, fileName(id))).catch(() => undefined);
    this.#log.error({ entry: fileName(id), reason }, 'spool entry moved to rejected/; it is kept there for inspection');
    this.#forget(id);
  }

  #forget(id: number): void {
    this.#ids.shift();
    const key = this.#keys.get(id);
    if (key !== undefined) {
      this.#keySet.delete(key);
      this.#keys.delete(id);
    }
  }

  #index(id: number, entry: Extract<SpoolEntry, { kind: 'batch' }>): void {
    const key = batchKey(entry.batch);
    this.#keys.set(id, key);
    this.#keySet.add(key);
  }

  async #read(id: number): Promise<SpoolEntry | undefined> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(join(this.dir, fileName(id)), 'utf8'));
    } catch (e) {
      this.#log.error({ entry: fileName(id), err: { message: (e as Error).message } }, 'unreadable spool entry');
      return undefined;
    }
    return parseEntry(raw);
  }
}

/** Validates what was read back from disk: the batch with the shared schema, the rest by shape. */
export function parseEntry(raw: unknown): SpoolEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  switch (r['kind']) {
    case 'batch': {
      const batch = MetricBatchSchema.safeParse(r['batch']);
      const ctx = r['ctx'] as BatchContext | undefined;
      if (!batch.success || !isAgent(r['agent']) || typeof ctx?.scenario !== 'string' || typeof ctx.browser !== 'string') return undefined;
      return { kind: 'batch', batch: batch.data, agent: r['agent'], ctx };
    }
    case 'runStarted': {
      const run = r['run'] as RunInfo | undefined;
      const agents = r['agents'];
      if (typeof run?.runId !== 'string' || typeof run.startedAt !== 'number' || !Array.isArray(agents) || !agents.every(isAgent)) return undefined;
      return { kind: 'runStarted', run, agents };
    }
    case 'runEnded':
      if (typeof r['runId'] !== 'string' || typeof r['status'] !== 'string' || typeof r['endedAt'] !== 'number') return undefined;
      return { kind: 'runEnded', runId: r['runId'], status: r['status'] as RunStatus, endedAt: r['endedAt'] };
    case 'alert': {
      const a = r['alert'] as AlertRecord | undefined;
      return typeof a?.key === 'string' && typeof a.state === 'string' && typeof a.updatedAt === 'number' ? { kind: 'alert', alert: a } : undefined;
    }
    case 'round': {
      const round = RoundReportSchema.safeParse(r['round']);
      return round.success ? { kind: 'round', round: round.data } : undefined;
    }
    default:
      return undefined;
  }
}

function isAgent(a: unknown): a is AgentInfo {
  if (typeof a !== 'object' || a === null) return false;
  const x = a as Record<string, unknown>;
  return (
    typeof x['agentId'] === 'string' &&
    typeof x['name'] === 'string' &&
    typeof x['location'] === 'string' &&
    typeof x['labels'] === 'object' &&
    typeof x['capacity'] === 'object'
  );
}

function fileName(id: number): string {
  return `${String(id).padStart(16, '0')}.json`;
}
