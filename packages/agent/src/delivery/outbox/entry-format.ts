import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IdSchema, isTempFile, mkdirPrivate, moveDurable, removeTempFiles, syncDir, writeFileDurable } from '@userprobe/shared';

/*
 * How one kind of outbox item lies on disk, and the operations on one entry.
 * An entry lives in its run's folder, `<spool>/<runId>/`, in one of two shapes:
 *
 *   file     <name>.json     the item as one document, written atomically
 *   folder   <name>/         the item's parts, then `manifest.json`, written last:
 *                            a folder without it is an interrupted write
 *
 * Either way an entry exists only once it is complete; what a crash leaves
 * half-written (temporary files, a folder without its manifest) is removed
 * when the spool is opened. Entries refused for good can be set aside in
 * `<spool>/rejected/` as `<runId>.<name>[.json]` with a `.reason.txt` beside.
 */

/** Every outbox item belongs to a run. */
export interface OutboxKey {
  readonly runId: string;
}

/** One named blob of a folder entry (an evidence file). */
export interface Part {
  readonly name: string;
  readonly data: Uint8Array;
}

interface FormatBase<K extends OutboxKey, T> {
  /** What one item is called in messages ('batch', 'evidence'), and several. */
  readonly noun: string;
  readonly plural: string;
  /** The key an item is stored under. */
  keyOf(item: T): K;
  /** The entry's name in its run folder: an id or a number (never `.` or `..`). */
  entryName(key: K): string;
  /** The key of an entry found in run folder `runId` under `name` (a file's name without `.json`); null: not an entry. */
  parseName(runId: string, name: string): K | null;
  /** Send order of the pending entries. */
  compare(a: K, b: K): number;
  /** The key in messages: `run-1#3`, `run-1/s1`; unique per key. */
  label(key: K): string;
}

export interface FileFormat<K extends OutboxKey, T> extends FormatBase<K, T> {
  readonly shape: 'file';
  encode(item: T): string;
  /** The item read back; throws, saying what is wrong, when the text does not hold the item `key` names. */
  decode(text: string, key: K): T;
}

export interface FolderFormat<K extends OutboxKey, T> extends FormatBase<K, T> {
  readonly shape: 'folder';
  encode(item: T): readonly Part[];
  /** The item read back from its parts; throws, saying what is wrong, when they do not make one. */
  decode(parts: readonly Part[], key: K): T;
}

export type EntryFormat<K extends OutboxKey, T> = FileFormat<K, T> | FolderFormat<K, T>;

/** A folder entry's commit record: the names of its parts. */
export const MANIFEST = 'manifest.json';
interface Manifest {
  readonly names: readonly string[];
  readonly createdAt: number;
}
const JSON_SUFFIX = '.json';
/** A part's name: a plain file name in the entry's folder (no folders, not hidden, not the manifest). */
const PART_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
export const REJECTED_DIR = 'rejected';

function checkPartName(name: string): string {
  if (!PART_NAME.test(name) || name === MANIFEST) {
    throw new Error(`part name "${name.slice(0, 80)}" is not a plain file name (1-64 of A-Z a-z 0-9 . _ -, not starting with ".", not ${MANIFEST})`);
  }
  return name;
}

/** A name that stays inside its folder: an id, not `.` or `..`. */
const isFolderName = (name: string): boolean => IdSchema.safeParse(name).success && name !== '.' && name !== '..';

/** Where an entry is: the file, or the folder. Throws for a key that would leave the spool. */
export function entryPath<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, key: K): string {
  const name = f.entryName(key);
  if (!isFolderName(key.runId) || !isFolderName(name)) {
    throw new Error(`${f.noun} key ${f.label(key)} cannot name a spool entry (run id and name: 1-64 of A-Z a-z 0-9 . _ : -, not "." or "..")`);
  }
  return join(dir, key.runId, f.shape === 'file' ? `${name}${JSON_SUFFIX}` : name);
}

/** Make an item durable as its entry (replacing an entry of the same key). */
export async function writeEntry<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, item: T): Promise<K> {
  const key = f.keyOf(item);
  const path = entryPath(f, dir, key);
  await mkdirPrivate(join(dir, key.runId));
  if (f.shape === 'file') {
    await writeFileDurable(path, f.encode(item));
    return key;
  }
  const parts = f.encode(item);
  for (const p of parts) checkPartName(p.name);
  await rm(path, { recursive: true, force: true });
  await mkdirPrivate(path);
  for (const p of parts) await writeFileDurable(join(path, p.name), p.data, { syncDir: false });
  await syncDir(path);
  const manifest: Manifest = { names: parts.map((p) => p.name), createdAt: Date.now() };
  await writeFileDurable(join(path, MANIFEST), JSON.stringify(manifest));
  await syncDir(join(dir, key.runId));
  return key;
}

/** Read an entry back (throws when it is missing or does not hold the item its key names). */
export async function readEntry<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, key: K): Promise<T> {
  const path = entryPath(f, dir, key);
  if (f.shape === 'file') return f.decode(await readFile(path, 'utf8'), key);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(path, MANIFEST), 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${join(path, MANIFEST)} is missing or not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(manifest.names)) throw new Error(`${join(path, MANIFEST)} lists no parts`);
  const parts = await Promise.all(
    manifest.names.map(async (n: unknown) => {
      const name = checkPartName(String(n));
      return { name, data: await readFile(join(path, name)) };
    }),
  );
  return f.decode(parts, key);
}

/** Delete an entry (a missing one is not an error). A folder loses its manifest first, so a crash midway leaves an interrupted write. */
export async function removeEntry<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, key: K): Promise<void> {
  const path = entryPath(f, dir, key);
  const unlinkIfThere = (p: string) =>
    unlink(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  if (f.shape === 'file') {
    await unlinkIfThere(path);
    return;
  }
  await unlinkIfThere(join(path, MANIFEST));
  await rm(path, { recursive: true, force: true });
}

/** Move an entry to `<dir>/rejected/` with its reason beside it, never deleting it; returns where it went. */
export async function setAsideEntry<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, key: K, reason: string): Promise<string> {
  const rejected = join(dir, REJECTED_DIR);
  const base = `${key.runId}.${f.entryName(key)}`;
  const to = join(rejected, f.shape === 'file' ? `${base}${JSON_SUFFIX}` : base);
  await mkdirPrivate(rejected);
  await writeFileDurable(join(rejected, `${base}.reason.txt`), `${new Date().toISOString()} ${reason}\n`);
  if (f.shape === 'folder') await rm(to, { recursive: true, force: true });
  await moveDurable(entryPath(f, dir, key), to).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  return to;
}

/**
 * The complete entries of one run folder. Temporary files and folders
 * without a manifest (interrupted writes) are removed; files and folders
 * that name no entry of this format are left alone.
 */
export async function scanRunFolder<K extends OutboxKey, T>(f: EntryFormat<K, T>, dir: string, runId: string): Promise<{ keys: K[]; removed: string[] }> {
  const runDir = join(dir, runId);
  const removed = await removeTempFiles(runDir);
  const keys: K[] = [];
  for (const e of await readdir(runDir, { withFileTypes: true })) {
    if (f.shape === 'file') {
      if (!e.isFile() || !e.name.endsWith(JSON_SUFFIX) || isTempFile(e.name)) continue;
      const key = f.parseName(runId, e.name.slice(0, -JSON_SUFFIX.length));
      if (key !== null) keys.push(key);
      continue;
    }
    if (!e.isDirectory()) continue;
    const key = f.parseName(runId, e.name);
    if (key === null) continue;
    const complete = await stat(join(runDir, e.name, MANIFEST)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (complete) {
      keys.push(key);
    } else {
      await rm(join(runDir, e.name), { recursive: true, force: true });
      removed.push(e.name);
    }
  }
  return { keys, removed };
}
