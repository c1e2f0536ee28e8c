import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ERROR_CODES, EvidenceFileNameSchema, IdSchema, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ProbeError, describeError, type EvidenceFile } from '@userprobe/shared';
import { syncDir, writeFileAtomic } from '../delivery/atomic-write.js';

/**
 * Evidence waiting for the controller's ack, on disk like metric batches, so a
 * reconnect or a restart does not lose it:
 *
 *   <dir>/<runId>/<sessionId>/<file>…       the files
 *   <dir>/<runId>/<sessionId>/manifest.json written last: the upload is complete
 *
 * A folder without a manifest is an interrupted write and is removed on open.
 * Folders are 0700 and files 0600; what is written here is already redacted
 * (SessionEvidence).
 */
export interface EvidenceKey {
  readonly runId: string;
  readonly sessionId: string;
}

interface Manifest {
  readonly names: readonly string[];
  readonly createdAt: number;
}

const MANIFEST = 'manifest.json';

function spoolError(message: string, cause: unknown): ProbeError {
  return new ProbeError(ERROR_CODES.SPOOL_IO, `${message}: ${describeError(cause).message}`, { cause });
}

async function writeDurable(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'w', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class EvidenceSpool {
  readonly dir: string;
  readonly #log: Logger;
  /** Complete uploads not yet acknowledged, oldest first. */
  #pending: Array<EvidenceKey & { createdAt: number }> = [];

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.#log = log.child({ component: 'evidence-spool' });
  }

  #folder(k: EvidenceKey): string {
    if (!IdSchema.safeParse(k.runId).success || !IdSchema.safeParse(k.sessionId).success) {
      throw new ProbeError(ERROR_CODES.SPOOL_IO, `evidence key ${k.runId}/${k.sessionId} is not a pair of ids`);
    }
    return join(this.dir, k.runId, k.sessionId);
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      for (const run of await readdir(this.dir, { withFileTypes: true })) {
        if (!run.isDirectory() || !IdSchema.safeParse(run.name).success) continue;
        for (const s of await readdir(join(this.dir, run.name), { withFileTypes: true })) {
          if (!s.isDirectory() || !IdSchema.safeParse(s.name).success) continue;
          const folder = join(this.dir, run.name, s.name);
          const m = await readFile(join(folder, MANIFEST), 'utf8').then((t) => JSON.parse(t) as Manifest, () => null);
          if (m === null) {
            await rm(folder, { recursive: true, force: true });
            continue;
          }
          this.#pending.push({ runId: run.name, sessionId: s.name, createdAt: m.createdAt });
        }
      }
    } catch (e) {
      throw spoolError(`cannot open the evidence spool ${this.dir}`, e);
    }
    this.#pending.sort((a, b) => a.createdAt - b.createdAt);
    if (this.#pending.length) this.#log.info({ pending: this.#pending.length }, 'evidence from before is waiting for the controller; sending it again');
  }

  /** Store a session's files durably; only then may they be sent. */
  async write(k: EvidenceKey, files: readonly EvidenceFile[]): Promise<void> {
    const folder = this.#folder(k);
    try {
      await rm(folder, { recursive: true, force: true });
      await mkdir(folder, { recursive: true, mode: PRIVATE_DIR_MODE });
      for (const f of files) await writeDurable(join(folder, EvidenceFileNameSchema.parse(f.name)), f.data);
      const manifest: Manifest = { names: files.map((f) => f.name), createdAt: Date.now() };
      await writeFileAtomic(join(folder, MANIFEST), JSON.stringify(manifest));
      await syncDir(join(this.dir, k.runId));
      this.#pending = this.#pending.filter((p) => p.runId !== k.runId || p.sessionId !== k.sessionId);
      this.#pending.push({ ...k, createdAt: manifest.createdAt });
    } catch (e) {
      throw spoolError(`cannot write the evidence of ${k.runId}/${k.sessionId} to ${folder}`, e);
    }
  }

  pending(): readonly EvidenceKey[] {
    return this.#pending.map(({ runId, sessionId }) => ({ runId, sessionId }));
  }

  get size(): number {
    return this.#pending.length;
  }

  async read(k: EvidenceKey): Promise<EvidenceFile[]> {
    const folder = this.#folder(k);
    try {
      const m = JSON.parse(await readFile(join(folder, MANIFEST), 'utf8')) as Manifest;
      return await Promise.all(m.names.map(async (name) => ({ name: EvidenceFileNameSchema.parse(name), data: await readFile(join(folder, name)) })));
    } catch (e) {
      throw spoolError(`cannot read the spooled evidence ${folder}`, e);
    }
  }

  /** Acknowledged (or refused for good): forget it. */
  async remove(k: EvidenceKey): Promise<void> {
    this.#pending = this.#pending.filter((p) => p.runId !== k.runId || p.sessionId !== k.sessionId);
    await rm(this.#folder(k), { recursive: true, force: true });
    const runDir = join(this.dir, k.runId);
    if ((await readdir(runDir).catch(() => ['?'])).length === 0) await rm(runDir, { recursive: true, force: true });
  }
}
