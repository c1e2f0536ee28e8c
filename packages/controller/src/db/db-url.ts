import { ConfigError } from '@userprobe/shared';

/** A parsed `mysql://user:password@host:port/database` URL. */
export interface DbTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The URL with the password replaced, safe for logs and messages. */
  readonly redacted: string;
}

const ACCEPTED = 'mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE';
const DEFAULT_PORT = 3306;

/** Never log a DB URL as given: this is the form that may be shown. */
export function redactDbUrl(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export function parseDbUrl(url: string): DbTarget {
  const redacted = redactDbUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not echoed: an unparsable URL cannot be redacted reliably.
    throw new ConfigError(`the database URL does not parse; expected ${ACCEPTED}`);
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new ConfigError(`database URL ${redacted} has scheme ${u.protocol}; expected ${ACCEPTED}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new ConfigError(`database URL ${redacted} names no usable database ("${database}"); expected ${ACCEPTED} with a database of A-Z a-z 0-9 _ $`);
  }
  if (u.username === '') throw new ConfigError(`database URL ${redacted} names no user; expected ${ACCEPTED}`);
  const port = u.port === '' ? DEFAULT_PORT : Number(u.port);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    redacted: `mysql://${u.username}${u.password === '' ? '' : ':***'}@${u.host}/${database}`,
  };
}
