import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures.js';
import { AGENT_CLI, startCli, startNode, type Proc } from './processes.js';

/*
 * Issue 11, findings 2 and 3, with the real CLIs: a controller serving HTTPS
 * with a certificate from deploy/tls/make-ca.sh, agents that pin its CA (or
 * the wrong one, or none), each agent with its own token from `controller
 * agent-token`, a revocation list, and the plain-HTTP refusals at start.
 */

const MAKE_CA = fileURLToPath(new URL('../../../deploy/tls/make-ca.sh', import.meta.url));
const MASTER = 'trust-e2e-master-7c1f';

function makeCa(dir: string, ...hosts: string[]): void {
  const r = spawnSync('bash', [MAKE_CA, '-o', dir, ...hosts], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-ca.sh failed: ${r.stderr}`);
}

function agentToken(id: string, master = MASTER): string {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 'agent-token', id], {
    encoding: 'utf8',
    env: { ...process.env, PROBE_TOKEN: master },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('TLS and per-agent identity (real controller and agents)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = (p: Proc) => {
    cleanups.push(() => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    });
    return p;
  };

  it("agent-token prints the agent's token from PROBE_TOKEN alone; the master never goes on a command line", () => {
    const t = agentToken('ams3-1');
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(agentToken('ams3-2')).not.toBe(t);
    expect(agentToken('ams3-1', 'another-master')).not.toBe(t);
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 'agent-token', 'ams3-1', '--token', MASTER], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: token/);
  });

  it("HTTPS hub: an agent pinning its CA joins with its own token; a wrong CA, no CA, another id's token, the master and a revoked id are refused (exit 2, the reason said); revoking a connected agent ends it", async () => {
    const tmp = await tempDir('userprobe-trust-');
    cleanups.push(tmp.cleanup);
    const good = join(tmp.dir, 'tls-good');
    const other = join(tmp.dir, 'tls-other');
    makeCa(good, '127.0.0.1');
    makeCa(other, '127.0.0.1');
    const revoked = join(tmp.dir, 'revoked-agents.txt');
    await writeFile(revoked, '# ids refused whatever their token\nagent-rev\n');

    const serve = track(
      startCli(
        [
          'serve',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--out',
          join(tmp.dir, 'results'),
          '--tls-cert',
          join(good, 'server.crt'),
          '--tls-key',
          join(good, 'server.key'),
          '--revoked-agents',
          revoked,
        ],
        { PROBE_TOKEN: MASTER },
      ),
    );
    const [, url] = await serve.waitFor(/controller listening on (https:\/\/127\.0\.0\.1:\d+)/, 'stdout');

    const agent = (id: string, token: string, extra: string[]): Proc =>
      track(
        startNode(
          AGENT_CLI,
          [`--controller=${url!}`, `--id=${id}`, `--name=${id}`, `--spool=${join(tmp.dir, 'spool')}`, '--log-level=warn', '--allow-host=127.0.0.1', ...extra],
          { PROBE_TOKEN: token },
        ),
      );

    const ok = agent('agent-ok', agentToken('agent-ok'), [`--ca=${join(good, 'ca.crt')}`]);
    await serve.waitFor(/agent agent-ok connected/);

    const refused = async (p: Proc, re: RegExp): Promise<void> => {
      expect(await p.exited, p.stderr()).toBe(2);
      expect(p.stderr()).toMatch(re);
      expect(p.stderr()).not.toContain(MASTER);
    };
    await refused(
      agent('agent-ca', agentToken('agent-ca'), [`--ca=${join(other, 'ca.crt')}`]),
      new RegExp(
        `agent: cannot verify controller https://127\\.0\\.0\\.1:\\d+: .*\\([A-Z_]+\\); this agent trusts only the CA in --ca ${join(other, 'ca.crt')}.*Not retrying`,
      ),
    );
    await refused(
      agent('agent-sys', agentToken('agent-sys'), []),
      /agent: cannot verify controller .*this agent trusts the system CAs \(pin the controller's own CA with --ca FILE/,
    );
    const pin = `--ca=${join(good, 'ca.crt')}`;
    await refused(agent('agent-x', agentToken('agent-ok'), [pin]), /refused this agent: wrong token .*controller agent-token <agent id>/);
    await refused(agent('agent-m', MASTER, [pin]), /refused this agent: this agent sent the controller's master secret.*--allow-shared-token/);
    await refused(agent('agent-rev', agentToken('agent-rev'), [pin]), /refused this agent: agent id "agent-rev" is revoked on this controller/);

    // Revoked while connected: the controller drops it within its file check; it dials again and is refused for good.
    await appendFile(revoked, 'agent-ok\n');
    await refused(ok, /agent id "agent-ok" is revoked on this controller/);
    await serve.waitFor(/agent agent-ok disconnected/);
  }, 90_000);

  it('plain HTTP beyond loopback is refused at start on both sides unless allowed', async () => {
    const tmp = await tempDir('userprobe-trust-');
    cleanups.push(tmp.cleanup);
    const a = track(
      startNode(AGENT_CLI, ['--controller=http://10.0.0.5:7077', '--id=lan-1', `--spool=${tmp.dir}`, '--allow-host=127.0.0.1'], { PROBE_TOKEN: 'x' }),
    );
    expect(await a.exited).toBe(2);
    expect(a.stderr()).toMatch(
      /^agent: --controller http:\/\/10\.0\.0\.5:7077 is plain HTTP to a host that is not loopback: this agent's token and every batch would cross the network readable; use https:\/\/ .*--allow-plain-http/,
    );
    const c = track(startCli(['serve', '--host', '0.0.0.0', '--port', '0', '--out', join(tmp.dir, 'results')], { PROBE_TOKEN: MASTER }));
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/^controller: the hub would listen on 0\.0\.0\.0 with plain HTTP/);
    const help = spawnSync(process.execPath, [AGENT_CLI, '--help'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--allow-plain-http .*Gives up confidentiality and integrity: this agent's token and every batch cross the network readable/);
    const ctlHelp = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 'serve', '--help'], {
      encoding: 'utf8',
    }).stdout.replace(/\s+/g, ' ');
    expect(ctlHelp).toMatch(/--allow-plain-http .*Gives up confidentiality and integrity: every agent's token and every batch cross the network readable/);
    expect(ctlHelp).toMatch(/--allow-shared-token .*Gives up per-agent identity: whoever holds it can connect as any agent id/);
  });

  it("controller run over HTTPS with a local agent: it pins the hub's certificate chain, gets its own token and the demo's hosts, and the session succeeds", async () => {
    const tmp = await tempDir('userprobe-trust-');
    cleanups.push(tmp.cleanup);
    const tls = join(tmp.dir, 'tls');
    makeCa(tls, 'ctl.example.com');
    const out = join(tmp.dir, 'results');
    const run = track(
      startCli([
        'run',
        '--scenario',
        'chat-load',
        '--total',
        '1',
        '--local-agents',
        '1',
        '--port',
        '0',
        '--out',
        out,
        '--run-id',
        'tls-run',
        '--tls-cert',
        join(tls, 'server.crt'),
        '--tls-key',
        join(tls, 'server.key'),
      ]),
    );
    expect(await run.exited, run.stderr().slice(-2000)).toBe(0);
    expect(run.stderr()).toMatch(/agents connect to https:\/\/127\.0\.0\.1:\d+/);
    const sessions = (await readFile(join(out, 'tls-run', 'sessions.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string });
    expect(sessions.map((s) => s.status)).toEqual(['ok']);
  }, 90_000);
});
