import { EVIDENCE_MAX_FILES, EVIDENCE_MAX_FILE_BYTES, EVIDENCE_MAX_UPLOAD_BYTES, type EvidenceFile } from '@userprobe/shared';

/**
 * What one evidence upload may carry: the controller refuses an upload over
 * these limits for good (they match its socket.io parser's, see
 * PACKET_MAX_ATTACHMENTS), so the agent never builds one. Splitting is not an
 * option (the controller answers a second upload of a session with what it
 * stored from the first), so files are left out, and said so.
 */
export interface UploadLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
  readonly maxFileBytes: number;
}

export const UPLOAD_LIMITS: UploadLimits = Object.freeze({
  maxFiles: EVIDENCE_MAX_FILES,
  maxBytes: EVIDENCE_MAX_UPLOAD_BYTES,
  maxFileBytes: EVIDENCE_MAX_FILE_BYTES,
});

export interface LeftOut {
  readonly name: string;
  readonly bytes: number;
}

/**
 * Pure: files in upload order → the ones that fit (same order) and the ones
 * left out. A file over `maxFileBytes` is left out; over the count, the last
 * files are; over the bytes, the largest are (the later one first on a tie:
 * earlier files matter more). The `keep` file (the console log, small, with
 * the notes) is left out only if nothing else is left to leave out.
 */
export function fitUpload(
  files: readonly EvidenceFile[],
  keep: string | null,
  limits: UploadLimits = UPLOAD_LIMITS,
): { files: EvidenceFile[]; left: LeftOut[] } {
  const left: LeftOut[] = [];
  const drop = (f: EvidenceFile): void => {
    left.push({ name: f.name, bytes: f.data.byteLength });
  };
  const kept: EvidenceFile[] = [];
  for (const f of files) {
    if (f.data.byteLength > limits.maxFileBytes) drop(f);
    else kept.push(f);
  }
  const victims = (): EvidenceFile[] => {
    const others = kept.filter((f) => f.name !== keep);
    return others.length ? others : kept;
  };
  while (kept.length > limits.maxFiles) {
    const v = victims().at(-1)!;
    kept.splice(kept.indexOf(v), 1);
    drop(v);
  }
  let total = kept.reduce((n, f) => n + f.data.byteLength, 0);
  while (total > limits.maxBytes) {
    const v = victims().reduce((a, b) => (b.data.byteLength >= a.data.byteLength ? b : a));
    kept.splice(kept.indexOf(v), 1);
    drop(v);
    total -= v.data.byteLength;
  }
  return { files: kept, left };
}
