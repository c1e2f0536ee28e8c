import { readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ERROR_CODES, IdSchema, PRIVATE_FILE_MODE, ProbeError, describeError, mkdirPrivate } from '@userprobe/shared';
import { isAlive } from '../../host/pid.js';
import { REJECTED_DIR, entryPath, readEntry, removeEntry, scanRunFolder, setAsideEntry, writeEntry, type EntryFormat, type OutboxKey } from './entry-format.js';

/*
 * The spool of an outbox: items waiting for the controller's ack, kept on
 * disk (entry-format.ts says how) so that neither a reconnect, nor a restart,
 * nor kill -9 loses one. What is guaranteed:
 *
 * - `write` resolves only once the item is durable; only then may it be sent.
 * - An item leaves the spool only by `remove` (acknowledged) or `setAside`
 *   (refused for good: moved to `rejected/`, never deleted).
 * - `open` finds every complete entry a previous process left, in send
 *   order, and clears what interrupted writes left.
 * - With `lock`, one process at a time: `<dir>/lock` holds its pid.
 *
 * Folders are 0700 and files 0600. Errors are ProbeErrors with code
 * E_SPOOL_IO naming the spool and the item.
 */

export interface OutboxSpoolOptions {
  /** Log component ('spool', 'evidence-spool'). */
  readonly component: string;
  /** Take `<dir>/lock` at open: two processes sending one spool would send everything twice. */
  readonly lock?: boolean;
}

const LOCK = 'lock';

function spoolError(message: string, cause: unknown): ProbeError {
  return new ProbeError(ERROR_CODES.SPOOL_IO, `${message}: ${describeError(cause).message}`, { cause });
}

export class OutboxSpool<K extends OutboxKey, T> {
  readonly dir: string;
  readonly format: EntryFormat<K, T>;
  protected readonly log: Logger;
  readonly #lock: boolean;
  /** Pending keys in send order; the items stay on disk. */
  #pending: K[] = [];
  readonly #listeners = new Set<() => void>();

  constructor(dir: string, format: EntryFormat<K, T>, log: Logger, opts: OutboxSpoolOptions) {
    this.dir = dir;
    this.format = format;
    this.log = log.child({ component: opts.component });
    this.#lock = opts.lock ?? false;
  }

  /** Create the folder, take the lock, load what a previous process left. */
  async open(): Promise<void> {
    try {
      await mkdirPrivate(this.dir);
      if (this.#lock) await this.#takeLock();
      for (const e of await readdir(this.dir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === REJECTED_DIR || !IdSchema.safeParse(e.name).success) continue;
        const { keys, removed } = await scanRunFolder(this.format, this.dir, e.name);
        if (removed.length) this.log.warn({ runId: e.name, removed }, 'removed what interrupted writes left in the spool');
        this.#pending.push(...keys);
        await this.loadedRun(e.name, keys);
        // Nothing left in it (everything acknowledged): the folder goes; a folder with anything else in it stays.
        if (keys.length === 0) await rmdir(join(this.dir, e.name)).catch(() => undefined);
      }
      this.#pending.sort((a, b) => this.format.compare(a, b));
    } catch (e) {
      if (e instanceof ProbeError) throw e;
      throw spoolError(`cannot open the spool ${this.dir}`, e);
    }
    if (this.#pending.length) {
      this.log.info(
        { pending: this.#pending.length },
        `the spool holds ${this.format.plural} from before that the controller has not acknowledged; sending them again`,
      );
    }
  }

  /** Called by `open` for each run folder with the keys found in it (a subclass keeps its own per-run state). */
  protected async loadedRun(_runId: string, _keys: readonly K[]): Promise<void> {}

  /** Called by `write` once the entry is durable, before it is pending (and can be sent). */
  protected async written(_key: K): Promise<void> {}

  async #takeLock(): Promise<void> {
    const file = join(this.dir, LOCK);
    const held = await readFile(file, 'utf8').then(
      (s) => Number(s.trim()),
      () => NaN,
    );
    if (Number.isInteger(held) && held > 0 && held !== process.pid && isAlive(held)) {
      throw new ProbeError(
        ERROR_CODES.SPOOL_IO,
        `the spool ${this.dir} is in use by process ${held}; give each agent on this machine its own --id (or --spool)`,
      );
    }
    await writeFile(file, `${process.pid}\n`, { mode: PRIVATE_FILE_MODE });
  }

  /** Durably store an item (replacing a pending one of the same key). Only after this resolves may it be sent. */
  async write(item: T): Promise<K> {
    const f = this.format;
    let key: K;
    try {
      key = await writeEntry(f, this.dir, item);
      await this.written(key);
    } catch (e) {
      throw spoolError(`cannot write ${f.noun} ${f.label(f.keyOf(item))} to the spool ${this.dir}`, e);
    }
    this.#drop(key);
    const at = this.#pending.findIndex((k) => f.compare(k, key) > 0);
    if (at < 0) this.#pending.push(key);
    else this.#pending.splice(at, 0, key);
    for (const l of this.#listeners) l();
    return key;
  }

  /** Pending keys, in send order. */
  pending(): readonly K[] {
    return [...this.#pending];
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Called whenever an item is added. */
  onWrite(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Where a pending item's entry is (its file, or its folder). */
  pathOf(key: K): string {
    return entryPath(this.format, this.dir, key);
  }

  /** Read a pending item back, checked: the entry may have been damaged or edited. */
  async read(key: K): Promise<T> {
    try {
      return await readEntry(this.format, this.dir, key);
    } catch (e) {
      throw spoolError(`cannot read spooled ${this.format.noun} ${this.format.label(key)} from ${this.pathOf(key)}`, e);
    }
  }

  /** The controller has the item durably (or it is dropped): forget it. Its run folder goes too once empty. */
  async remove(key: K): Promise<void> {
    try {
      await removeEntry(this.format, this.dir, key);
    } catch (e) {
      throw spoolError(`cannot remove ${this.format.noun} ${this.format.label(key)} from the spool ${this.dir}`, e);
    }
    this.#drop(key);
    // Only an empty folder is removed; a write into it that races this recreates it (writeEntry makes its folders).
    await rmdir(join(this.dir, key.runId)).catch(() => undefined);
  }

  /** Refused for good (or unreadable): move it to `rejected/` with its reason, never delete it; returns where it went. */
  async setAside(key: K, reason: string): Promise<string> {
    let to: string;
    try {
      to = await setAsideEntry(this.format, this.dir, key, reason);
    } catch (e) {
      throw spoolError(`cannot move ${this.format.noun} ${this.format.label(key)} to ${join(this.dir, REJECTED_DIR)}`, e);
    }
    this.#drop(key);
    return to;
  }

  #drop(key: K): void {
    const label = this.format.label(key);
    const i = this.#pending.findIndex((k) => this.format.label(k) === label);
    if (i >= 0) this.#pending.splice(i, 1);
  }

  /** Release the lock (the items stay). */
  async close(): Promise<void> {
    if (this.#lock) {
      const file = join(this.dir, LOCK);
      const held = await readFile(file, 'utf8').then(
        (s) => Number(s.trim()),
        () => NaN,
      );
      if (held === process.pid) await unlink(file).catch(() => undefined);
    }
    this.#listeners.clear();
  }
}
