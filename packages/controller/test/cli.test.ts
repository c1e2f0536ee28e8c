import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { BUNDLED_PROFILES, coreMetrics, SCENARIO_OPTIONS, type Assignment, type BatchAck, type MetricBatch } from '@userprobe/shared';
import { tempDir, hello, connectAgent, batch, lineCount, type FakeAgent } from './fixtures.js';
import { startCli as start, type Proc } from './processes.js';

/** A fake agent that plays its assignment: one batch per session (core metrics), then run:finished. */
function playAssignments(s: FakeAgent, agentId: string, failIds: string[] = [], seen: Assignment[] = []): void {
  s.on('run:assign', (a: Assignment, ack) => {
    seen.push(a);
    ack({ accepted: true });
    void (async () => {
      let seq = 0;
      for (const ps of a.sessions) {
        const failed = failIds.includes(ps.sessionId);
        s.emit('session:progress', { runId: a.runId, sessionId: ps.sessionId, phase: 'started' });
        const b: MetricBatch = {
          runId: a.runId,
          agentId,
          seq: ++seq,
          createdAt: Date.now(),
          samples: (failed ? [] : coreMetrics(a.scenario)).map((metric) => ({ sessionId: ps.sessionId, metric, value: 10, ts: Date.now() })),
          sessions: [
            {
              sessionId: ps.sessionId,
              scenario: a.scenario,
              browser: a.browser,
              status: failed ? 'failed' : 'ok',
              startedAt: Date.now(),
              endedAt: Date.now(),
              failedStep: failed ? 'page_load' : null,
              error: failed ? { code: 'E_STEP_FAILED', message: 'x' } : null,
              artifacts: [],
            },
          ],
        };
        const r: BatchAck = await s.timeout(10_000).emitWithAck('metrics:batch', b);
        if (!r.ok) throw new Error(r.reason);
        s.emit('session:progress', { runId: a.runId, sessionId: ps.sessionId, phase: failed ? 'failed' : 'finished' });
      }
      await s.timeout(10_000).emitWithAck('run:finished', { runId: a.runId, lastSeq: seq, ok: a.sessions.length - failIds.length, failed: failIds.length });
    })();
  });
}

describe('controller CLI', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const tmp = async () => {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
  const track = (p: Proc) => {
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    return p;
  };

  // Concurrent (two at a time: maxConcurrency of the real-parts project): each case is one short CLI process that waits on
  // nothing (the table took 22 s one by one).
  it.concurrent.for<[string[], RegExp]>([
    [['run', '--scenario', 'chat-loud', '--total', '3'], /Choices: "chat-load", "video-call", "cobrowse"/],
    [['run', '--scenario', 'chat-load', '--total', '3', '--ramp-up', 'soon', '--local-agents', '1'], /^controller: --ramp-up: "soon" is not a duration/],
    [
      ['run', '--scenario', 'chat-load', '--total', '3', '--target', '/nonexistent/p.yaml', '--local-agents', '1', '--port', '0'],
      /^controller: \/nonexistent\/p\.yaml: not a bundled profile \(demo, demo-socket-chat, demo-nickname, demo-sso\) and not a readable profile file \(ENOENT\)/,
    ],
    [['run', '--scenario', 'chat-load', '--total', '3', '--expect-agents', '2'], /^controller: a master secret is required when remote agents are expected/],
    [['serve'], /^controller: controller serve needs the master secret/],
    // plain HTTP beyond loopback, half a TLS pair, an unreadable certificate, a missing revocation list: refused at start
    [
      ['serve', '--token', 't', '--port', '0'],
      /^controller: the hub would listen on 0\.0\.0\.0 \(the default of controller serve\) with plain HTTP.*--tls-cert FILE --tls-key FILE.*--allow-plain-http/,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', '3', '--expect-agents', '2', '--token', 't'],
      /^controller: the hub would listen on 0\.0\.0\.0 \(the default when agents on other machines are expected\) with plain HTTP/,
    ],
    [['serve', '--token', 't', '--port', '0', '--host', '127.0.0.1', '--tls-cert', 'x.crt'], /^controller: --tls-cert was given without --tls-key/],
    [
      ['serve', '--token', 't', '--port', '0', '--host', '127.0.0.1', '--tls-cert', '/nonexistent/x.crt', '--tls-key', '/nonexistent/x.key'],
      /^controller: --tls-cert: cannot read \/nonexistent\/x\.crt \(ENOENT\)\n$/,
    ],
    [
      ['serve', '--token', 't', '--port', '0', '--host', '127.0.0.1', '--revoked-agents', '/nonexistent/revoked'],
      /^controller: --revoked-agents: cannot read \/nonexistent\/revoked \(ENOENT\)/,
    ],
    [['agent-token', 'ams3-1'], /^controller: agent-token: set PROBE_TOKEN to the controller's master secret/],
    [['agent-token', 'has space'], /^controller: agent-token: "has space" is not an agent id/],
    [
      ['run', '--scenario', 'chat-load', '--total', '3', '--local-agents', '1', '--think-time', '30s-10s'],
      /^controller: --think-time: the range 30s-10s ends before it starts; write MIN-MAX/,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', '3', '--local-agents', '1', '--port', '0', '--messages', '10', '--think-time', '20s'],
      /^controller: --think-time up to 20s between 10 messages pauses up to 3m, which with 1m for the session's own work does not fit the session timeout 2m; raise --session-timeout to at least 4m/m,
    ],
    // out-of-range values are refused at start (they used to pass and die later with raw Zod JSON and exit 3)
    [
      ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--step-timeout', '0'],
      /^controller: --step-timeout: 0ms is out of range; accepted: a duration from 1ms to 10m\n$/,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--session-timeout', '2h'],
      /^controller: --session-timeout: 2h is out of range; accepted: a duration from 1ms to 1h\n$/,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', 'lots', '--local-agents', '1'],
      /^controller: --total: not a number; accepted: a whole number from 1 to 100000\n$/,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--capacity', 'video-call=99999'],
      /^controller: --capacity: "video-call=99999" is not accepted; use N/,
    ],
    [['serve', '--token', 't', '--drain-timeout', '0'], /^controller: --drain-timeout: 0ms is out of range; accepted: a duration from 100ms to 1h\n$/],
    // demo knobs are the demo's to check (passed through by the demo launcher), in the words of the flag typed here
    [
      ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--demo-latency', 'create'],
      /^controller: --demo-latency create: expected NAME=MS such as create=300; names: page, /,
    ],
    [
      ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--demo-error', 'init=200'],
      /^controller: --demo-error init=200: errors\.init\.status: an injected status is 400\.\.599; endpoints: init, /,
    ],
  ])('bad input %j → exit 2 with one clear line, no stack', async ([args, re], { expect }) => {
    const p = start(args); // not track(): afterEach runs while other cases still run
    try {
      expect(await p.exited).toBe(2);
      expect(p.stderr()).toMatch(re);
      expect(p.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('run --config: the file stands for its flags and is checked like them; the command line wins; every problem of the file at once', async () => {
    const dir = await tmp();
    const load = join(dir, 'load.yaml');
    await writeFile(load, 'scenario: chat-load\ntotal: 3\nramp-up: soon\nlocal-agents: 1\n');
    const fromFile = track(start(['run', '--config', load]));
    expect(await fromFile.exited).toBe(2);
    expect(fromFile.stderr()).toMatch(/^controller: --ramp-up: "soon" is not a duration/);
    const overridden = track(start(['run', '--config', load, '--ramp-up', '1s', '--total', 'lots']));
    expect(await overridden.exited).toBe(2);
    expect(overridden.stderr()).toMatch(/^controller: --total: not a number; accepted: a whole number from 1 to 100000\n$/);
    const wrong = join(dir, 'wrong.yaml');
    await writeFile(wrong, 'scenario: chat-load\nthresholds: [api_create:p95<800ms]\ntoken: s3cret\n');
    const problems = track(start(['run', '--config', wrong, '--total', '1']));
    expect(await problems.exited).toBe(2);
    expect(problems.stderr()).toMatch(
      new RegExp(
        `^controller: --config ${wrong.replace(/[.]/g, '\\.')}: 2 problem\\(s\\):\n  - thresholds: not a flag of controller run \\(did you mean threshold\\?\\)`,
      ),
    );
    expect(problems.stderr()).toContain('  - token: the master secret is read from PROBE_TOKEN, never from a file');
    expect(problems.stderr()).not.toContain('s3cret');
    const before = track(start(['--out', dir, 'run', '--config', load]));
    expect(await before.exited).toBe(2);
    expect(before.stderr()).toBe('controller: --config: write `run` first and every flag after it, as in `controller run --config FILE [flags]`\n');
    const missing = track(start(['run', '--config', join(dir, 'nope.yaml')]));
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toBe(`controller: --config ${join(dir, 'nope.yaml')}: cannot read it (ENOENT)\n`);
  });

  it('serve --config refuses a check whose options its target profile cannot run, as run does, every problem at once', async () => {
    const dir = await tmp();
    const demo = await readFile(BUNDLED_PROFILES.demo!, 'utf8');
    const profile = join(dir, 'no-chat-item.yaml');
    await writeFile(
      profile,
      demo
        .split('\n')
        .filter((l) => !l.includes('chatItem:'))
        .join('\n')
        .replaceAll('${DEMO_SITE_URL}', 'http://127.0.0.1:1')
        .replaceAll('${DEMO_APP_URL}', 'http://127.0.0.2:1'),
    );
    const cfg = join(dir, 'monitor.yaml');
    const check = (name: string, options: string) =>
      `  - { name: ${name}, scenario: chat-load, target: ./no-chat-item.yaml, interval: 1m, options: ${options} }\n`;
    await writeFile(
      cfg,
      `checks:\n${check('fine', '{ chats-per-console: 1 }')}${check('shared', '{ chats-per-console: 4 }')}${check('paced', '{ messages: 10, think-time: 20s }')}`,
    );
    const p = track(
      start(['serve', '--config', cfg, '--out', join(dir, 'out'), '--host', '127.0.0.1', '--port', '0'], {
        PROBE_TOKEN: 't0k',
        PROBE_OPERATOR_TOKEN: 'operator-token-cli-test',
      }),
    );
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toBe(
      `controller: --config ${cfg}: 2 problem(s):\n` +
        '  - checks "shared": --chats-per-console 4: the target profile demo has no agent.chatItem; sessions sharing a console open their chat by its item (agent.chatItem) and reply once its message shows in the open chat (agent.messageList). Add them to the profile, or use --chats-per-console 1 (a console per session)\n' +
        '  - checks "paced": --think-time up to 20s between 10 messages pauses up to 3m, which with 1m for the session\'s own work does not fit the session timeout 2m; raise --session-timeout to at least 4m, or shorten --think-time\n',
    );
  });

  it('run --help lists every scenario option with its default and an example, from their table', async () => {
    const p = track(start(['run', '--help']));
    expect(await p.exited).toBe(0);
    const help = p.stdout().replace(/\s+/g, ' ');
    expect(help).toContain('Scenario options (every agent gets them in its assignment):');
    for (const s of Object.values(SCENARIO_OPTIONS)) {
      expect(help).toContain(` --${s.flag} `);
      expect(help).toContain(`E.g. ${s.example}`);
      expect(help).toContain(`[default: ${s.defaultText}]`);
    }
  });

  it('the results folder is checked before anything starts: a file, a folder that cannot be made → exit 2 at once, naming --out', async () => {
    const file = join(await tmp(), 'a-file');
    await writeFile(file, 'x');
    const cases: Array<[string[], RegExp]> = [
      [
        ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--out', file],
        new RegExp(`^controller: --out: ${file} exists and is not a folder; accepted: a writable folder \\(created if missing\\)\n$`),
      ],
      [
        ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--out', join(file, 'sub')],
        new RegExp(`^controller: --out: ${file} \\(in ${file}/sub\\) is not a folder; accepted: a writable folder`),
      ],
      // Node's recursive mkdir spins forever here (100 % CPU, SIGTERM ignored)
      [
        ['run', '--scenario', 'chat-load', '--total', '1', '--local-agents', '1', '--port', '0', '--out', '/proc/x/y'],
        /^controller: --out: cannot create the folder \/proc\/x \(ENOENT\); accepted: a writable folder \(created if missing\)\n$/,
      ],
      [['serve', '--token', 't', '--port', '0', '--host', '127.0.0.1', '--out', file], /^controller: --out: .* exists and is not a folder/],
    ];
    for (const [args, re] of cases) {
      const p = track(start(args));
      const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
      expect(code, args.join(' ')).toBe(2);
      expect(p.stderr()).toMatch(re);
      expect(p.stderr()).not.toMatch(/target:|\n\s+at /); // nothing started, no stack
    }
  });

  it("a plan the cluster cannot hold → exit 2 naming each agent's capacity", async () => {
    const out = await tmp();
    const p = track(
      start(['run', '--scenario', 'chat-load', '--total', '5', '--expect-agents', '1', '--port', '0', '--host', '127.0.0.1', '--out', out], {
        PROBE_TOKEN: 't0k',
      }),
    );
    const [, url] = await p.waitFor(/agents connect to (http:\/\/\S+)/);
    const s = await connectAgent(url!, hello({ master: 't0k', capacity: { 'chat-load': 2, 'video-call': 0, cobrowse: 0 } }));
    cleanups.push(() => {
      s.close();
    });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain("total 5 exceeds the cluster's chat-load capacity 2: fake-1 2");
  });

  it('runs with remote (fake) agents: --json outcome, exit 0; a failed session → exit 1; chat pacing reaches the agents', async () => {
    for (const [fail, code] of [
      [[], 0],
      [['s0002'], 1],
    ] as const) {
      const out = await tmp();
      const seen: Assignment[] = [];
      const p = track(
        start(
          [
            'run',
            '--scenario',
            'chat-load',
            '--total',
            '4',
            '--expect-agents',
            '2',
            '--ramp-up',
            '0',
            '--port',
            '0',
            '--host',
            '127.0.0.1',
            '--out',
            out,
            '--json',
            '--run-id',
            'run-cli',
            '--messages',
            '3',
            '--think-time',
            '1s-2500ms',
            '--input',
            'insert',
          ],
          { PROBE_TOKEN: 't0k' },
        ),
      );
      const [, url] = await p.waitFor(/agents connect to (http:\/\/\S+)/);
      for (const id of ['agent-a', 'agent-b']) {
        const s = await connectAgent(url!, hello({ master: 't0k', agentId: id, name: id }));
        cleanups.push(() => {
          s.close();
        });
        playAssignments(s, id, id === 'agent-b' ? [...fail] : [], seen);
      }
      expect(await p.exited).toBe(code);
      expect(seen.map((a) => [a.options.messages, a.options.thinkTime, a.options.input])).toEqual([
        [3, { minMs: 1_000, maxMs: 2_500 }, 'insert'],
        [3, { minMs: 1_000, maxMs: 2_500 }, 'insert'],
      ]);
      const o = JSON.parse(p.stdout()) as {
        status: string;
        exitCode: number;
        summary: { sessions: Record<string, number>; agents: { name: string; sessionsOk: number }[] };
      };
      expect(o.exitCode).toBe(code);
      expect(o.summary.sessions).toMatchObject({ recorded: 4, ok: 4 - fail.length, failed: fail.length, missing: 0 });
      expect(o.summary.agents.map((a) => a.name)).toEqual(['agent-a', 'agent-b']);
      expect(await lineCount(join(out, 'run-cli', 'samples.jsonl'))).toBe((4 - fail.length) * coreMetrics('chat-load').length);
      expect(p.stderr()).toMatch(/plan: 4 chat-load session\(s\) over 2 agent\(s\): agent-a 2\/4, agent-b 2\/4/);
    }
  });

  it('SIGINT while waiting for agents → exit 3 with a clear line', async () => {
    const p = track(
      start(['run', '--scenario', 'chat-load', '--total', '1', '--expect-agents', '1', '--port', '0', '--host', '127.0.0.1', '--out', await tmp()], {
        PROBE_TOKEN: 't0k',
      }),
    );
    await p.waitFor(/waiting for 1 agent/);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(3);
    expect(p.stderr()).toMatch(/controller: aborted while waiting for agents: interrupted by SIGINT/);
  });

  it("serve takes spooled batches of a run it has a record of; after a restart on the same folder a replay is a duplicate; a run it has no record of stays in the agent's spool", async () => {
    const out = await tmp();
    // The run an earlier controller planned (and closed): its run-state.json says agent-1 holds s0001.
    await mkdir(join(out, 'old-run'), { recursive: true });
    const t0 = Date.UTC(2025, 0, 1, 12);
    await writeFile(
      join(out, 'old-run', 'run-state.json'),
      JSON.stringify({
        version: 2,
        runId: 'old-run',
        status: 'closed',
        scenario: 'chat-load',
        browser: 'shell',
        targetName: 'demo',
        total: 1,
        startedAt: t0 - 60_000,
        startAt: t0 - 58_500,
        deadlineAt: t0 + 600_000,
        durationMs: null,
        config: { onAgentLoss: 'reassign', lossGraceMs: 15_000, drainMs: 30_000, startLeadMs: 1_500, reassignSpacingMs: 1_000, sessionTimeoutMs: 120_000 },
        nextPart: 1,
        agents: [{ agentId: 'agent-1', name: 'fake-1', capacity: 4, instanceId: null, inRun: true, parts: [0], sentParts: [0], finished: null, lost: false }],
        slots: [{ slot: 's0001', agentId: 'agent-1', attempt: 1, part: 0, current: null, offsetMs: 0, phase: 'done', status: 'ok', movedFrom: [] }],
        lostSessions: [],
        end: { kind: 'drain-timeout', missing: ['fake-1 batches 1 of 1'] },
        endedAt: t0,
      }),
    );
    const serve = () => track(start(['serve', '--port', '0', '--host', '127.0.0.1', '--out', out], { PROBE_TOKEN: 't0k' }));
    let p = serve();
    let [, url] = await p.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    let s = await connectAgent(url!, hello({ master: 't0k' }));
    expect(await s.timeout(10_000).emitWithAck('metrics:batch', batch({ runId: 'old-run' }))).toEqual({ ok: true, seq: 1, duplicate: false });
    s.close();
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    p = serve();
    [, url] = await p.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    s = await connectAgent(url!, hello({ master: 't0k' }));
    cleanups.push(() => {
      s.close();
    });
    expect(await s.timeout(10_000).emitWithAck('metrics:batch', batch({ runId: 'old-run' }))).toEqual({ ok: true, seq: 1, duplicate: true });
    expect(await lineCount(join(out, 'old-run', 'samples.jsonl'))).toBe(3);
    expect(await s.timeout(10_000).emitWithAck('metrics:batch', batch({ runId: 'never-planned' }))).toMatchObject({
      ok: false,
      retryable: true,
      code: 'E_RUN_UNKNOWN',
    });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('reconcile: a verdict judged before late batches arrived is recomputed from what is stored (finding 5)', async () => {
    const out = await tmp();
    const p = track(
      start(
        [
          'run',
          '--scenario',
          'chat-load',
          '--total',
          '2',
          '--expect-agents',
          '1',
          '--ramp-up',
          '0',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--out',
          out,
          '--run-id',
          'late',
          '--drain-timeout',
          '300ms',
          '--json',
        ],
        { PROBE_TOKEN: 't0k' },
      ),
    );
    const [, url] = await p.waitFor(/agents connect to (http:\/\/\S+)/);
    const s = await connectAgent(url!, hello({ master: 't0k' }));
    cleanups.push(() => {
      s.close();
    });
    const held: MetricBatch[] = [];
    s.on('run:assign', (a: Assignment, ack) => {
      ack({ accepted: true });
      void (async () => {
        let seq = 0;
        for (const ps of a.sessions) {
          const b: MetricBatch = {
            runId: a.runId,
            agentId: 'agent-1',
            seq: ++seq,
            createdAt: Date.now(),
            samples: coreMetrics(a.scenario).map((metric) => ({ sessionId: ps.sessionId, metric, value: 10, ts: Date.now() })),
            sessions: [
              {
                sessionId: ps.sessionId,
                scenario: a.scenario,
                browser: a.browser,
                status: 'ok',
                startedAt: Date.now(),
                endedAt: Date.now(),
                failedStep: null,
                error: null,
                artifacts: [],
              },
            ],
          };
          if (seq === 2)
            held.push(b); // this one is late: the network (or a paused agent) holds it back
          else await s.timeout(10_000).emitWithAck('metrics:batch', b);
        }
        await s.timeout(10_000).emitWithAck('run:finished', { runId: a.runId, lastSeq: seq, ok: 2, failed: 0 });
      })();
    });
    expect(await p.exited).toBe(3);
    expect((JSON.parse(p.stdout()) as { summary: { sessions: unknown } }).summary.sessions).toMatchObject({ expected: 2, recorded: 1, missing: 1 });
    // The late batch reaches a controller later (serve on the same folder stores it: the run is known).
    const srv = track(start(['serve', '--port', '0', '--host', '127.0.0.1', '--out', out], { PROBE_TOKEN: 't0k' }));
    const [, url2] = await srv.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    const s2 = await connectAgent(url2!, hello({ master: 't0k' }));
    cleanups.push(() => {
      s2.close();
    });
    expect(await s2.timeout(10_000).emitWithAck('metrics:batch', held[0]!)).toEqual({ ok: true, seq: 2, duplicate: false });
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
    // Judged again from what is stored: both sessions, exit 0.
    const r = track(start(['reconcile', 'late', '--out', out, '--json']));
    expect(await r.exited).toBe(0);
    const o = JSON.parse(r.stdout()) as { status: string; summary: { sessions: Record<string, number> } };
    expect(o.status).toBe('passed');
    expect(o.summary.sessions).toMatchObject({ expected: 2, recorded: 2, ok: 2, missing: 0 });
    expect((JSON.parse(await readFile(join(out, 'late', 'run.json'), 'utf8')) as { status: string }).status).toBe('passed');
  });

  it('reconcile closes a run whose controller died, naming what never ran; an unknown run is a clear exit 2', async () => {
    const out = await tmp();
    const p = track(
      start(
        [
          'run',
          '--scenario',
          'chat-load',
          '--total',
          '2',
          '--expect-agents',
          '1',
          '--ramp-up',
          '0',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--out',
          out,
          '--run-id',
          'orphan',
        ],
        { PROBE_TOKEN: 't0k' },
      ),
    );
    const [, url] = await p.waitFor(/agents connect to (http:\/\/\S+)/);
    const s = await connectAgent(url!, hello({ master: 't0k' }));
    cleanups.push(() => {
      s.close();
    });
    s.on('run:assign', (_a: Assignment, ack) => ack({ accepted: true }));
    await p.waitFor(/assigned; sessions start at/);
    p.child.kill('SIGKILL');
    await p.exited;
    expect((JSON.parse(await readFile(join(out, 'orphan', 'run-state.json'), 'utf8')) as { status: string }).status).toBe('open');
    const early = track(start(['reconcile', 'orphan', '--out', out]));
    expect(await early.exited).toBe(2); // still within its bound: a controller may be following it
    expect(early.stderr()).toMatch(/run orphan is still open and within its bound .* pass --force to judge it now anyway/);
    const r = track(start(['reconcile', 'orphan', '--out', out, '--json', '--force']));
    expect(await r.exited).toBe(3);
    const o = JSON.parse(r.stdout()) as { status: string; error: { message: string }; summary: { sessions: Record<string, number> } };
    expect(o.status).toBe('failed');
    expect(o.summary.sessions).toMatchObject({ expected: 2, recorded: 0, notRun: 2 });
    expect((JSON.parse(await readFile(join(out, 'orphan', 'run-state.json'), 'utf8')) as { status: string }).status).toBe('closed');
    // The run it closed gets its report.html, said on stderr (stdout stays one JSON object).
    expect(r.stderr()).toContain(`report: ${join(out, 'orphan', 'report.html')}`);
    expect(await readFile(join(out, 'orphan', 'report.html'), 'utf8')).toContain('run orphan');
    const bad = track(start(['reconcile', 'no-such-run', '--out', out]));
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/^controller: no run no-such-run in .* \(no .*run\.json\); pass --out with the results folder the run wrote to\n$/);
  });
});
