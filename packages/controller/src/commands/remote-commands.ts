import { createInterface } from 'node:readline';
import { ProbeError, ERROR_CODES } from '@userprobe/shared';
import { apiJson, apiRequest, ApiClientError, readBody, type ApiTarget } from '../api/api-client.js';
import type { RunStreamLine } from '../api/operator-api.js';
import type { StatusDocument } from '../api/status-document.js';
import { formatDuration } from '@userprobe/shared';
import { EXIT } from '../run/coordinator.js';

/*
 * The operator API's commands: `controller status`, `controller abort RUN`,
 * and `controller run --controller URL …` (a load test run by the daemon,
 * its progress and summary printed here as a standalone run prints them, and
 * the same exit code). A controller that cannot be reached or refuses is
 * exit 3 (2 when it says the input was bad).
 */

export interface RemoteIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  readonly onInterrupt: (fn: (signal: string) => void) => () => void;
}

export async function statusCommand(t: ApiTarget, json: boolean, io: RemoteIo): Promise<number> {
  const doc = (await guard(() => apiJson(t, 'GET', '/api/v1/status'))) as StatusDocument;
  if (json) {
    io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return EXIT.OK;
  }
  io.stdout.write(renderStatus(doc, Date.now()));
  return EXIT.OK;
}

export async function abortCommand(t: ApiTarget, runId: string, io: RemoteIo): Promise<number> {
  await guard(() => apiJson(t, 'POST', `/api/v1/runs/${encodeURIComponent(runId)}/abort`));
  io.stdout.write(`run ${runId}: aborting (its summary says what ran)\n`);
  return EXIT.OK;
}

export async function remoteRunCommand(t: ApiTarget, flags: Record<string, unknown>, io: RemoteIo): Promise<number> {
  const res = await guard(() => apiRequest(t, 'POST', '/api/v1/runs', flags));
  if ((res.statusCode ?? 500) >= 400) {
    const text = await readBody(res);
    let msg = text.slice(0, 500);
    try {
      msg = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      /* not JSON: shown as it is */
    }
    io.stderr.write(`controller: ${msg}\n`);
    return res.statusCode === 400 || res.statusCode === 409 || res.statusCode === 401 ? EXIT.BAD_INPUT : EXIT.RUN_FAILED;
  }
  // Ctrl-C: closing the request makes the daemon abort the run (its summary still streams back if we stay).
  const off = io.onInterrupt((signal) => {
    io.stderr.write(`received ${signal}: asking the controller to abort the run (press again to exit now)\n`);
    res.destroy();
  });
  let code: number | null = null;
  try {
    for await (const text of createInterface({ input: res, crlfDelay: Infinity })) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as RunStreamLine;
      if (line.t === 'err') io.stderr.write(line.s);
      else if (line.t === 'out') io.stdout.write(line.s);
      else code = line.code;
    }
  } catch (e) {
    if (code === null) io.stderr.write(`controller: the stream from ${t.url.origin} broke: ${e instanceof Error ? e.message : String(e)}\n`);
  } finally {
    off();
  }
  if (code === null) {
    io.stderr.write('controller: the controller closed the stream before the run ended (it was stopped?); `controller status` shows what runs\n');
    return EXIT.RUN_FAILED;
  }
  return code;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiClientError) {
      throw new ProbeError(e.status === 400 || e.status === 401 ? ERROR_CODES.CONFIG_INVALID : ERROR_CODES.TARGET_UNREACHABLE, e.message);
    }
    throw e;
  }
}

/** Pure: the status as tables for a terminal. */
export function renderStatus(doc: StatusDocument, now: number): string {
  const ago = (iso: string) => `${formatDuration(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)) * 1000)} ago`;
  const lines: string[] = [];
  lines.push(
    `controller up since ${doc.controller.startedAt}${doc.controller.config ? `, config ${doc.controller.config} (load tests: ${doc.controller.loadTests ?? '-'})` : ', no monitor config'}`,
  );
  lines.push('', `agents (${doc.agents.filter((a) => a.connected).length} connected of ${doc.agents.length} seen):`);
  for (const a of doc.agents) {
    const cap = Object.entries(a.capacity)
      .map(([s, n]) => `${s} ${a.busy[s] ?? 0}/${n}`)
      .join(', ');
    lines.push(
      `  ${a.name.padEnd(16)} ${a.location.padEnd(10)} ${a.connected ? 'connected' : `gone (${a.disconnectReason ?? '?'})`}, last seen ${ago(a.lastSeenAt)}; busy/capacity: ${cap}`,
    );
  }
  lines.push('', `checks (${doc.checks.length}):`);
  for (const c of doc.checks) {
    const next = c.nextRoundAt === null ? 'not scheduled' : `next round ${c.nextRoundAt.slice(11, 19)}Z`;
    const counts =
      Object.entries(c.counts)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ') || 'no round yet';
    lines.push(`  ${c.name} (${c.scenario}, every ${formatDuration(c.intervalMs)}): ${next}; ${counts}`);
    for (const r of c.lastRounds)
      lines.push(
        `    ${r.location.padEnd(10)} last ${r.slotAt.slice(11, 19)}Z ${r.status}${r.sessions.planned ? ` ${r.sessions.ok}/${r.sessions.planned} ok` : ''}${r.reason ? `: ${r.reason}` : ''}`,
      );
  }
  const firing = doc.alerts.filter((a) => a.state === 'firing').length;
  lines.push('', `alerts (${firing} firing, ${doc.alerts.length - firing} pending or just resolved):`);
  for (const a of doc.alerts)
    lines.push(
      `  ${a.state.padEnd(8)} ${a.severity ?? '-'} ${a.check} ${a.location} ${a.kind}${a.metric ? ` ${a.metric}` : ''} since ${a.since.slice(11, 19)}Z${a.detail ? `: ${a.detail}` : ''}`,
    );
  lines.push('', `runs in progress (${doc.runs.length}):`);
  for (const r of doc.runs) lines.push(`  ${r.runId} ${r.kind} since ${ago(r.startedAt)}: ${r.detail}`);
  return lines.join('\n') + '\n';
}
