import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalAgents } from './local-agents.js';
import { captureLog, tempDir } from '../test/fixtures.js';

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
  it('get the token through PROBE_TOKEN, never on their command line', async () => {
    const tmp = await tempDir();
    const cli = join(tmp.dir, 'fake-agent.mjs');
    await writeFile(cli, FAKE_AGENT);
    const token = 'local-token-7f3a9c';
    const agents = startLocalAgents({
      count: 2, controllerUrl: 'http://127.0.0.1:9', token, spoolRoot: tmp.dir, capacity: ['2'], agentCli: cli, logLevel: 'info', log: captureLog().log,
    });
    try {
      const seen = await Promise.all(agents.names.map(async (name) => {
        for (;;) {
          const text = await readFile(join(tmp.dir, `${name}.json`), 'utf8').catch(() => null);
          if (text) return JSON.parse(text) as { cmdline: string[]; token: string | null };
          await sleep(20);
        }
      }));
      for (const s of seen) {
        expect(s.token).toBe(token);
        expect(s.cmdline.join(' ')).not.toContain(token);
        expect(s.cmdline.some((a) => a.startsWith('--token'))).toBe(false);
        expect(s.cmdline).toEqual(expect.arrayContaining(['--controller=http://127.0.0.1:9', `--spool=${tmp.dir}`]));
      }
    } finally {
      await agents.stop();
      await tmp.cleanup();
    }
  });
});
