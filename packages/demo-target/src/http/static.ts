import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser files (plain HTML/JS/CSS, no build step). Resolves from src/ and dist/ alike. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export function contentType(file: string): string {
  return TYPES[extname(file)] ?? 'application/octet-stream';
}

/**
 * Read a file under public/, filling `{{NAME}}` placeholders from `vars`.
 * `relative` comes from route tables, never from the request path.
 */
export async function readPublic(relative: string, vars: Readonly<Record<string, string>> = {}): Promise<string> {
  const path = normalize(join(PUBLIC_DIR, relative));
  if (!path.startsWith(PUBLIC_DIR)) throw new Error(`public file outside public/: ${relative}`);
  const text = await readFile(path, 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (m, name: string) => vars[name] ?? m);
}
