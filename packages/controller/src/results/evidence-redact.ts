import type { EvidenceFile, Redactor } from '@userprobe/shared';

const BINARY = /\.(png|jpe?g|webp|gif)$/i;
const DOCUMENT = /\.(har|json)$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Defence in depth for evidence: agents redact before anything touches their
 * disk (see the agent's SessionEvidence); the controller redacts once more
 * before it stores, by name (Authorization, cookies, password-like fields…)
 * and by the values it knows itself (the agents' token). Pure.
 *
 * - images (`.png`, `.jpg`, `.jpeg`, `.webp`) and anything that is not UTF-8
 *   text are stored as they came;
 * - `.har` and `.json` files that parse are redacted as documents, keeping
 *   their shape (and their indentation: two spaces when the file had line
 *   breaks);
 * - any other text, and JSON that does not parse, is redacted as text.
 * A file with nothing to redact keeps its bytes.
 */
export function redactEvidenceFile(file: EvidenceFile, redactor: Redactor): EvidenceFile {
  if (BINARY.test(file.name)) return file;
  let text: string;
  try {
    text = utf8.decode(file.data);
  } catch {
    return file;
  }
  if (DOCUMENT.test(file.name)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (doc !== undefined) {
      const out = redactor.value(doc);
      return out === doc ? file : { name: file.name, data: Buffer.from(JSON.stringify(out, null, text.includes('\n') ? 2 : undefined)) };
    }
  }
  const out = redactor.text(text);
  return out === text ? file : { name: file.name, data: Buffer.from(out) };
}
