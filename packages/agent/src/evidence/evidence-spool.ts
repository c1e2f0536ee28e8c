import type { Logger } from 'pino';
import { EvidenceFileNameSchema, type EvidenceFile } from '@userprobe/shared';
import { OutboxSpool } from '../delivery/outbox/outbox-spool.js';
import type { FolderFormat } from '../delivery/outbox/entry-format.js';

export interface EvidenceKey {
  readonly runId: string;
  readonly sessionId: string;
}

/** A session's evidence files, as spooled and sent. */
export interface SessionFiles extends EvidenceKey {
  readonly files: readonly EvidenceFile[];
}

/** A session's evidence as a folder of its files. */
export const EVIDENCE_FORMAT: FolderFormat<EvidenceKey, SessionFiles> = {
  shape: 'folder',
  noun: 'evidence',
  plural: 'evidence',
  keyOf: (s) => ({ runId: s.runId, sessionId: s.sessionId }),
  entryName: (k) => k.sessionId,
  parseName: (runId, name) => ({ runId, sessionId: name }),
  compare: (a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0),
  label: (k) => `${k.runId}/${k.sessionId}`,
  encode: (s) => s.files.map((f) => ({ name: EvidenceFileNameSchema.parse(f.name), data: f.data })),
  decode: (parts, k) => ({ runId: k.runId, sessionId: k.sessionId, files: parts.map((p) => ({ name: EvidenceFileNameSchema.parse(p.name), data: p.data })) }),
};

/**
 * Evidence waiting for the controller's ack, on disk like metric batches (an
 * OutboxSpool, so the guarantees written there hold), so a reconnect or a
 * restart does not lose it:
 *
 *   <dir>/<runId>/<sessionId>/<file>…       the files
 *   <dir>/<runId>/<sessionId>/manifest.json written last: the upload is complete
 *
 * A folder without a manifest is an interrupted write and is removed on open.
 * Folders are 0700 and files 0600; what is written here is already redacted
 * (SessionEvidence). Sessions are sent in (run, session) order.
 */
export class EvidenceSpool extends OutboxSpool<EvidenceKey, SessionFiles> {
  constructor(dir: string, log: Logger) {
    super(dir, EVIDENCE_FORMAT, log, { component: 'evidence-spool' });
  }
}
