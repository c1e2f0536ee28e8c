import { describe, expect, it } from 'vitest';
import { loadMigrations, parseMigrationName, splitStatements } from './sql-files.js';

describe('splitStatements', () => {
  it.each([
    ['', []],
    ['-- only a comment\n\n', []],
    ['CREATE TABLE a (x INT);\nCREATE TABLE b (\n  y INT -- inline stays\n);\n', ['CREATE TABLE a (x INT)', 'CREATE TABLE b (\n  y INT -- inline stays\n)']],
    ['-- head\nSELECT 1;\n-- between\n\nSELECT 2', ['SELECT 1', 'SELECT 2']],
    ["INSERT INTO t VALUES ('a;b');\n", ["INSERT INTO t VALUES ('a;b')"]],
  ])('%j', (sql, expected) => {
    expect(splitStatements(sql)).toEqual(expected);
  });
});

describe('parseMigrationName', () => {
  it.each([
    ['001_init.sql', { version: 1, name: '001_init.sql' }],
    ['012_add-index.sql', { version: 12, name: '012_add-index.sql' }],
    ['grafana-readonly-user.sql', null],
    ['1_short.sql', null],
    ['001_init.sql.bak', null],
  ])('%s', (file, expected) => expect(parseMigrationName(file)).toEqual(expected));
});

describe('loadMigrations', () => {
  it('reads the repository sql/ folder in order, every file with statements', async () => {
    const ms = await loadMigrations();
    expect(ms.length).toBeGreaterThan(0);
    expect(ms[0]!.name).toBe('001_init.sql');
    expect(ms.map((m) => m.version)).toEqual([...ms.map((m) => m.version)].sort((a, b) => a - b));
    for (const m of ms) expect(m.statements.length).toBeGreaterThan(0);
  });
});
