import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localAgentTrust, profileCredentialNames, startLocalAgents } from './local-agents.js';
import { deriveAgentToken } from '../trust/agent-token.js';
import { parseProfile } from '@userprobe/shared';
import { captureLog, tempDir } from '../../test/fixtures.js';

/**
 * What `ps` shows of a local agent: a stand-in agent CLI writes its own
 * /proc/self/cmdline and the PROBE_TOKEN it got to <spool>/<name>.json, then
 * waits to be stopped.
 */
const FAKE_AGENT = `
import { readFileSync, writeFileSync } from 'node:fs';
const arg = (n) => process.argv.find((a) => a.startsWith('--' + n + '='))?.slice(n.length + 3);
const cmdline = readFileSync('/proc/self/cmdline', 'utf8').split('\\0').filter(Boolean);
writeFileSync(arg('spool') + '/' + arg('name') + '.json', JSON.stringify({ cmdline, token: process.env.PROBE_TOKEN ?? null }));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`;

describe('local agents', () => {
  it('each gets its own token (derived from the master for its id) through PROBE_TOKEN, never on its command line; and its trust flags', async () => {
    const tmp = await tempDir();
    const cli = join(tmp.dir, 'fake-agent.mjs');
    await writeFile(cli, FAKE_AGENT);
    const token = 'local-token-7f3a9c';
    const trust = { allowHosts: ['127.0.0.1', '127.0.0.2'], secretEnv: ['DEMO_AGENT_PASSWORD'], scenarioDirs: ['/opt/s'], caFile: '/etc/tls/server.crt' };
    const agents = startLocalAgents({
      count: 2,
      controllerUrl: 'https://127.0.0.1:9',
      token,
      trust,
      spoolRoot: tmp.dir,
      capacity: ['2'],
      agentCli: cli,
      logLevel: 'info',
      log: captureLog().log,
    });
    try {
      const seen = await Promise.all(
        agents.names.map(async (name) => {
          for (;;) {
            const text = await readFile(join(tmp.dir, `${name}.json`), 'utf8').catch(() => null);
            if (text) return JSON.parse(text) as { cmdline: string[]; token: string | null };
            await sleep(20);
          }
        }),
      );
      seen.forEach((s, i) => {
        expect(s.token).toBe(deriveAgentToken(token, `local-${i + 1}`));
        expect(s.cmdline.join(' ')).not.toContain(token);
        expect(s.cmdline.join(' ')).not.toContain(s.token!);
        expect(s.cmdline.some((a) => a.startsWith('--token'))).toBe(false);
        expect(s.cmdline).toEqual(
          expect.arrayContaining([
            '--controller=https://127.0.0.1:9',
            `--spool=${tmp.dir}`,
            '--allow-host=127.0.0.1',
            '--allow-host=127.0.0.2',
            '--secret-env=DEMO_AGENT_PASSWORD',
            '--scenario-dir=/opt/s',
            '--ca=/etc/tls/server.crt',
          ]),
        );
      });
    } finally {
      await agents.stop();
      await tmp.cleanup();
    }
  });

  it("trust of a run: the profile's hosts and credential variables, the custom module's folder, the hub's certificate", () => {
    const profile = parseProfile(
      `
name: t
visitor:
  url: https://www.example.com/shop
  widget: { usable: { selector: '#w' }, open: '#o', messageInput: '#i', sendButton: '#s', messageList: '#l' }
agent:
  url: https://app.vendor.example:8443/console
  login: { username: { env: T_USER }, password: { env: T_PASS, default: x }, usernameInput: '#u', passwordInput: '#p', submit: '#go' }
  ready: '#r'
  chatItem: '.c'
  messageList: '#m'
  messageInput: '#mi'
  sendButton: '#sb'
network:
  requests: { init: { url: 'init' }, create: { url: 'create' }, addMessage: { url: 'msg' } }
  sockets: { crm: { url: 'crm' } }
`,
      'p.yaml',
    );
    expect(localAgentTrust(profile, '/opt/scen/my.mjs', null)).toEqual({
      allowHosts: ['www.example.com', 'app.vendor.example'],
      secretEnv: ['T_USER', 'T_PASS'],
      scenarioDirs: ['/opt/scen'],
      caFile: null,
    });
    expect(profileCredentialNames({ a: [{ env: 'A' }, { b: { env: 'B' } }], env: 3 })).toEqual(['A', 'B']);
  });
});
