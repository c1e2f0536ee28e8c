import type { Logger } from 'pino';
import { ResultsSink } from './folder-sink.js';
import type { Sink } from './sink.js';

export type DbSinkFactory = (dbUrl: string, log: Logger) => Promise<Sink>;

export interface Sinks {
  readonly results: ResultsSink;
  readonly all: readonly Sink[];
  close(): Promise<void>;
}

/**
 * The sinks a controller writes to: the results folder always, plus a
 * database sink when `--db` / PROBE_DB_URL is set and a factory for it is
 * supplied (the MySQL sink plugs in here).
 */
export async function openSinks(o: { outDir: string; dbUrl: string | null; log: Logger; dbSinkFactory?: DbSinkFactory | undefined }): Promise<Sinks> {
  const results = new ResultsSink({ outDir: o.outDir, log: o.log });
  const all: Sink[] = [results];
  if (o.dbUrl !== null) {
    if (o.dbSinkFactory) all.push(await o.dbSinkFactory(o.dbUrl, o.log));
    else o.log.warn('a database URL is set but this controller has no database sink wired in; writing the results folder only');
  }
  const opened: Sink[] = [];
  try {
    for (const s of all) {
      await s.open();
      opened.push(s);
    }
  } catch (e) {
    for (const s of opened) await s.close().catch(() => undefined);
    throw e;
  }
  return {
    results,
    all,
    async close() {
      for (const s of [...all].reverse()) await s.close();
    },
  };
}
