import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, describeError } from '@userprobe/shared';
import { isAgentId } from './agent-token.js';

/*
 * `--revoked-agents FILE`: agent ids the controller refuses even with a valid
 * token. One id per line; blank lines and lines starting with `#` are
 * ignored. The file is read at start (a missing or malformed file is a
 * ConfigError: a typo must not revoke nobody) and then checked for changes
 * every REVOKED_AGENTS_CHECK_MS: a changed file is read again and every
 * connected agent it now lists is disconnected (it is refused, with the
 * reason, when it dials again). A file that becomes unreadable or malformed
 * later keeps the last list in force and is logged: an edit in progress never
 * lifts a revocation.
 */

/** How often the file is checked for changes (a stat; the file is read only when it changed). */
export const REVOKED_AGENTS_CHECK_MS = 2_000;
/** Largest file accepted (a line per agent id: far more ids than any fleet). */
export const REVOKED_AGENTS_MAX_BYTES = 1_048_576;

/** Pure: the file's text → the revoked ids; a line that is not an agent id is a ConfigError naming it. */
export function parseRevokedAgents(text: string, file: string): Set<string> {
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!isAgentId(line)) {
      throw new ConfigError(
        `--revoked-agents ${file}: line ${i + 1} is not an agent id (1-64 characters from A-Z a-z 0-9 . _ : -); accepted: one agent id per line, # comments, blank lines`,
      );
    }
    ids.add(line);
  });
  return ids;
}

async function readList(file: string): Promise<Set<string>> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > REVOKED_AGENTS_MAX_BYTES)
      throw new ConfigError(`--revoked-agents ${file}: larger than ${REVOKED_AGENTS_MAX_BYTES} bytes; accepted: one agent id per line`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? describeError(e).message;
    throw new ConfigError(`--revoked-agents: cannot read ${file} (${code}); create it (one agent id per line; an empty file revokes none)`, { cause: e });
  }
  return parseRevokedAgents(text, file);
}

/** What the hub asks of a revocation list. */
export interface Revocations {
  has(agentId: string): boolean;
  on(event: 'changed', fn: (ids: ReadonlySet<string>) => void): unknown;
  off(event: 'changed', fn: (ids: ReadonlySet<string>) => void): unknown;
}

export class RevokedAgents extends EventEmitter<{ changed: [ReadonlySet<string>] }> implements Revocations {
  #ids: ReadonlySet<string>;
  #watching = false;
  readonly #listener = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    void this.reload();
  };

  readonly #log: Logger;

  private constructor(
    readonly file: string,
    ids: Set<string>,
    log: Logger,
  ) {
    super();
    this.#log = log;
    this.#ids = ids;
  }

  /** Read the file (ConfigError when it cannot be read or parsed) and watch it every `checkMs`. */
  static async open(file: string, log: Logger, checkMs = REVOKED_AGENTS_CHECK_MS): Promise<RevokedAgents> {
    const list = new RevokedAgents(file, await readList(file), log.child({ component: 'revoked-agents' }));
    watchFile(file, { interval: checkMs, persistent: false }, list.#listener);
    list.#watching = true;
    list.#log.info({ file, revoked: list.#ids.size }, 'revoked agents loaded');
    return list;
  }

  has(agentId: string): boolean {
    return this.#ids.has(agentId);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Read the file again; on success emit `changed`, on failure keep the current list and log why. */
  async reload(): Promise<void> {
    try {
      const ids = await readList(this.file);
      const added = [...ids].filter((id) => !this.#ids.has(id));
      const removed = [...this.#ids].filter((id) => !ids.has(id));
      this.#ids = ids;
      this.#log.warn({ file: this.file, revoked: ids.size, added, removed }, 'revoked agents changed');
      this.emit('changed', ids);
    } catch (e) {
      this.#log.error({ file: this.file, err: describeError(e) }, 'revoked agents file could not be read again; the previous list stays in force');
    }
  }

  close(): void {
    if (this.#watching) unwatchFile(this.file, this.#listener);
    this.#watching = false;
  }
}
