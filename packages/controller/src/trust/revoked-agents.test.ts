import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@userprobe/shared';
import { RevokedAgents, parseRevokedAgents } from './revoked-agents.js';
import { captureLog, tempDir } from '../../test/fixtures.js';

describe('--revoked-agents', () => {
  it('one id per line; # comments, blank lines and surrounding spaces ignored', () => {
    expect([...parseRevokedAgents('# lost laptop\nams3-1\n\n  fra1-2  \r\nams3-1\n', 'f')]).toEqual(['ams3-1', 'fra1-2']);
    expect(parseRevokedAgents('', 'f').size).toBe(0);
  });

  it('a line that is not an agent id is a ConfigError naming the line', () => {
    expect(() => parseRevokedAgents('ok-1\nnot an id\n', '/etc/r')).toThrow(ConfigError);
    expect(() => parseRevokedAgents('ok-1\nnot an id\n', '/etc/r')).toThrow(/^--revoked-agents \/etc\/r: line 2 is not an agent id/);
  });

  it('a missing file is refused at start; a file broken later keeps the last list in force', async () => {
    const t = await tempDir();
    const logs = captureLog();
    try {
      await expect(RevokedAgents.open(join(t.dir, 'none'), logs.log)).rejects.toThrow(/^--revoked-agents: cannot read .*none \(ENOENT\)/);
      const file = join(t.dir, 'revoked');
      await writeFile(file, 'a-1\n');
      const list = await RevokedAgents.open(file, logs.log, 60_000);
      try {
        expect([list.has('a-1'), list.has('a-2')]).toEqual([true, false]);
        const changed = new Promise<ReadonlySet<string>>((r) => list.once('changed', r));
        await writeFile(file, 'a-2\n');
        await list.reload();
        expect([...(await changed)]).toEqual(['a-2']);
        await writeFile(file, 'a-3\nbad line\n');
        await list.reload();
        expect([list.has('a-2'), list.has('a-3')]).toEqual([true, false]);
        expect(logs.lines().some((l) => l.msg === 'revoked agents file could not be read again; the previous list stays in force')).toBe(true);
      } finally {
        list.close();
      }
    } finally {
      await t.cleanup();
    }
  });
});
