import { describe, it, expect, afterEach } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { coreMetrics } from '@userprobe/shared';
import { migrate } from '../../src/db/migrate.js';
import { ADMIN, createTestDb } from '../db/test-db.js';
import { startTcpProxy } from '../db/tcp-proxy.js';
import { captureLog, tempDir } from '../fixtures.js';
import { startCli } from '../processes.js';
import { duplicates, runResults, startDrill } from '../drill-kit.js';

/*
 * Drill: MySQL paused for 150 s mid-run (SIGSTOP-like: a proxy that forwards
 * nothing and closes nothing, so the controller's connections go half-open).
 * The run must not stall on it — batches are acked from the sink's own spool
 * within the agents' ack timeout, the run ends and the controller exits within
 * its usual time plus the stated bound of a paused MySQL (MYSQL_CALL_TIMEOUT_MS
 * per call, MYSQL_CLOSE_TIMEOUT_MS to close) — and once MySQL answers again,
 * the next controller on the same results folder replays what was spooled:
 * MySQL then holds exactly what the results folder holds.
 */

const PAUSE_MS = 150_000;
const TOKEN = 'drill-token';

describe('drill: MySQL paused 150 s mid-run', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it(
    'the run does not stall; after MySQL is back every batch reaches it exactly once',
    async () => {
      const t = await tempDir('userprobe-drill-mysql-');
      cleanups.push(t.cleanup);
      const d = await startDrill(t.dir, { latency: { realtime: 500 } });
      cleanups.push(() => d.cleanup());
      const db = await createTestDb('userprobe_drill');
      cleanups.push(() => db.drop());
      await migrate(db.url, { log: captureLog().log });
      const proxy = await startTcpProxy(ADMIN.host, ADMIN.port);
      cleanups.push(() => proxy.close());
      const user = await db.createUser('SELECT, INSERT, UPDATE, DELETE');
      const dbUrl = `mysql://${user.user}:${encodeURIComponent(user.password)}@127.0.0.1:${proxy.port}/${db.name}`;

      const run4 = (runId: string) =>
        d.track(
          startCli(
            [
              'run',
              '--target',
              d.profile,
              '--out',
              d.out,
              '--host',
              '127.0.0.1',
              '--scenario',
              'chat-load',
              '--total',
              '4',
              '--local-agents',
              '1',
              '--capacity',
              '4',
              '--ramp-up',
              '4s',
              '--port',
              '0',
              '--run-id',
              runId,
            ],
            { PROBE_TOKEN: TOKEN, PROBE_DB_URL: dbUrl },
          ),
        );
      // What a stalled sink would show: the time from the run's last session ending to the controller's exit (the
      // drain of batch acks and the sinks' close), not the whole run, whose sessions take what the machine's load gives them.
      const tailMs = async (runId: string, exitedAt: number) => {
        const ends = (await runResults(d.out, runId)).sessions.map((s) => Date.parse(String(s.endedAt)));
        return exitedAt - Math.max(...ends);
      };
      // A baseline run with MySQL up.
      const t0 = Date.now();
      expect(await run4('base').exited).toBe(0);
      const baseMs = Date.now() - t0;
      const baseTailMs = await tailMs('base', Date.now());

      const t1 = Date.now();
      const run = run4('paused');
      await run.waitFor(/assigned; sessions start at/);
      proxy.setMode('paused');
      const pausedAt = Date.now();
      expect(await run.exited).toBe(0);
      const runMs = Date.now() - t1;
      const pausedTailMs = await tailMs('paused', Date.now());
      expect(Date.now() - pausedAt).toBeLessThan(PAUSE_MS); // it ended while MySQL was still paused
      // No stall: the tail within the baseline's plus the bound of one paused call per write path and a bounded close.
      expect(pausedTailMs, `last session → exit ${pausedTailMs} ms with MySQL paused; ${baseTailMs} ms with it up`).toBeLessThan(baseTailMs + 15_000);

      const r = await runResults(d.out, 'paused');
      expect(r.sessions.map((s) => s.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(duplicates(r)).toEqual([]);

      // MySQL comes back after 150 s; the next controller on the same folder replays the sink's spool.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pausedAt + PAUSE_MS - Date.now())));
      proxy.setMode('up');
      const serve = d.track(startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--out', d.out], { PROBE_TOKEN: TOKEN, PROBE_DB_URL: dbUrl }));
      await serve.waitFor(/controller listening on/, 'stdout');
      // Until the spool has drained: every sample in, and the run's end (spooled after its batches) applied. Waiting
      // for the samples alone raced the run's end on a loaded machine (quiet run q1: the run row read while its end was
      // still the spool's next entry).
      const deadline = Date.now() + 60_000;
      let rows = 0;
      while (Date.now() < deadline) {
        const [res] = await db.admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM samples WHERE run_id = ?', ['paused']);
        rows = Number(res[0]!['n']);
        const [end] = await db.admin.query<RowDataPacket[]>('SELECT ended_at FROM runs WHERE run_id = ?', ['paused']);
        if (rows >= r.samples.length && end[0]?.['ended_at'] != null) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(rows).toBe(r.samples.length);
      const [batches] = await db.admin.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT agent_id, seq) AS d FROM ingested_batches WHERE run_id = ?',
        ['paused'],
      );
      expect([Number(batches[0]!['n']), Number(batches[0]!['d'])]).toEqual([r.batches.length, r.batches.length]);
      const [core] = await db.admin.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM samples WHERE run_id = ? AND metric IN (${coreMetrics('chat-load')
          .map(() => '?')
          .join(', ')})`,
        ['paused', ...coreMetrics('chat-load')],
      );
      expect(Number(core[0]!['n'])).toBe(4 * coreMetrics('chat-load').length);
      // The run's end, spooled too while MySQL was paused: its row is closed, not left 'running'.
      const [runRow] = await db.admin.query<RowDataPacket[]>('SELECT status, ended_at FROM runs WHERE run_id = ?', ['paused']);
      expect(runRow[0]).toMatchObject({ status: 'passed' });
      expect(runRow[0]!['ended_at']).not.toBeNull();
      console.info(
        `[figures] MySQL paused ${PAUSE_MS / 1000} s mid-run: the run took ${runMs} ms, ${pausedTailMs} ms from its last session's end to the exit ` +
          `(the same run with MySQL up: ${baseMs} ms, ${baseTailMs} ms), exit 0; ` +
          `after MySQL returned, ${rows} samples and ${r.batches.length} batches reached it, each once; run row closed`,
      );
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    },
    PAUSE_MS + 180_000,
  );
});
