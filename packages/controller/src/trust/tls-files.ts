import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '@userprobe/shared';
import type { TlsFiles } from '../config/config.js';
import type { HubTls } from '../hub/hub.js';

/**
 * The hub's certificate and key, read from --tls-cert / --tls-key when the
 * hub starts. A file that cannot be read, or a pair Node's TLS does not
 * accept (not PEM, a key that does not match the certificate), is a
 * ConfigError naming the flag: the controller exits 2 before any agent dials.
 * The key's contents never reach a message or the log.
 */
export async function readTlsFiles(files: TlsFiles): Promise<HubTls> {
  const read = async (flag: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new ConfigError(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  };
  const cert = await read('--tls-cert', files.certFile);
  const key = await read('--tls-key', files.keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ConfigError(
      `--tls-cert ${files.certFile} / --tls-key ${files.keyFile}: not a usable certificate and key (${why}); ` +
        'accepted: PEM files, the certificate (with its chain) and its own private key, unencrypted (deploy/tls/make-ca.sh makes them)',
    );
  }
  return { cert, key };
}
