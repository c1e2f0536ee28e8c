import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { AGENT_CLI, CONTROLLER_CLI } from './processes.js';

/**
 * No Docker engine, Kubernetes or Grafana server runs here, so the deployment
 * files are checked with what does: every YAML parses, systemd verifies the
 * units, every `controller` / `agent` flag they use exists in the CLI's --help,
 * and every file, folder and variable they reference is really there.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

function filesUnder(dir: string, re: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && re.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const helpCache = new Map<string, Set<string>>();
function helpFlags(cli: string, command?: string): Set<string> {
  const key = `${cli} ${command ?? ''}`;
  let flags = helpCache.get(key);
  if (!flags) {
    const out = execFileSync(process.execPath, [cli, ...(command ? [command] : []), '--help'], { encoding: 'utf8' });
    flags = new Set([...out.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
    helpCache.set(key, flags);
  }
  return flags;
}

/** `controller <cmd> …` / `agent …` invocations in a text, as argument lists. */
function invocations(text: string): Array<{ cli: 'controller' | 'agent'; command: string | undefined; flags: string[] }> {
  const found: Array<{ cli: 'controller' | 'agent'; command: string | undefined; flags: string[] }> = [];
  const flat = text.replace(/\\\n/g, ' ').replace(/",\s*"/g, ' ').replace(/[[\]"]/g, ' ');
  for (const m of flat.matchAll(/(?:^|[\s/])(controller|agent)(?:\/dist\/cli\.js)?\s+((?:[^\n;]|\n\s+--)*)/g)) {
    const cli = m[1] as 'controller' | 'agent';
    const args = m[2]!.split(/\s+/).filter(Boolean);
    const command = cli === 'controller' && args[0] && !args[0].startsWith('-') ? args[0] : undefined;
    found.push({ cli, command, flags: args.filter((a) => /^--[a-z]/.test(a)).map((a) => a.split('=')[0]!) });
  }
  return found;
}

describe('deployment files', () => {
  const yamlFiles = filesUnder(DEPLOY, /\.ya?ml$/);

  it('every YAML file parses', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(6);
    for (const f of yamlFiles) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        expect(doc.errors, f).toEqual([]);
      }
    }
  });

  it('systemd accepts every unit', () => {
    const units = filesUnder(join(DEPLOY, 'systemd'), /\.(service|timer)$/);
    expect(units.length).toBe(5);
    const r = spawnSync('systemd-analyze', ['verify', '--man=false', ...units], { encoding: 'utf8', cwd: join(DEPLOY, 'systemd') });
    expect(r.error, 'systemd-analyze is needed for this check (Debian: systemd package)').toBeUndefined();
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('every controller/agent invocation uses flags the CLI accepts', () => {
    const texts = [...yamlFiles, ...filesUnder(DEPLOY, /\.(service|timer)$/)].map((f) => [f, readFileSync(f, 'utf8')] as const);
    let checked = 0;
    for (const [file, text] of texts) {
      for (const inv of invocations(text)) {
        if (inv.cli === 'controller' && inv.command === undefined) continue;
        const accepted = helpFlags(inv.cli === 'agent' ? AGENT_CLI : CONTROLLER_CLI, inv.command);
        for (const flag of inv.flags) {
          expect(accepted.has(flag), `${file}: ${inv.cli} ${inv.command ?? ''} ${flag} is not a flag of that command`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('compose: referenced paths exist, and Grafana gets every variable its provisioning files use', () => {
    const composeDir = join(DEPLOY, 'docker');
    const compose = parse(readFileSync(join(composeDir, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; environment?: Record<string, string>; volumes?: string[] }>;
    };
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.image ?? svc.build, `service ${name} has an image or a build`).toBeDefined();
      if (svc.build) expect(existsSync(join(composeDir, svc.build.context, svc.build.dockerfile))).toBe(true);
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('../')) expect(existsSync(join(composeDir, src)), `${name}: ${src}`).toBe(true);
      }
    }
    const grafanaEnv = new Set(Object.keys(compose.services['grafana']!.environment ?? {}));
    const provisioning = filesUnder(join(ROOT, 'grafana', 'provisioning'), /\.ya?ml$/).map((f) => readFileSync(f, 'utf8')).join('\n');
    const used = new Set([...provisioning.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(0);
    for (const v of used) expect(grafanaEnv.has(v), `grafana service sets ${v}`).toBe(true);
  });

  it('the Dockerfile and cloud-init point at files that exist', () => {
    const dockerfile = readFileSync(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8');
    for (const p of dockerfile.matchAll(/\/opt\/userprobe\/(packages\/[a-z-]+\/dist\/cli\.js)/g)) {
      expect(existsSync(join(ROOT, p[1]!.replace('/dist/cli.js', '/src/cli.ts'))), p[1]).toBe(true);
    }
    const cloudInit = readFileSync(join(DEPLOY, 'droplet', 'agent-cloud-init.yaml'), 'utf8');
    expect(cloudInit.startsWith('#cloud-config\n')).toBe(true);
    for (const p of cloudInit.matchAll(/\/opt\/userprobe\/([\w/.-]+)/g)) expect(existsSync(join(ROOT, p[1]!)), p[1]).toBe(true);
  });

  it('no documented command puts a password or token on a command line (ps shows arguments)', () => {
    const docs = [
      ...filesUnder(DEPLOY, /./), ...filesUnder(join(ROOT, 'docs'), /\.md$/), ...filesUnder(join(ROOT, 'sql'), /\.sql$/),
      ...filesUnder(join(ROOT, 'scripts'), /\.sh$/), join(ROOT, 'README.md'), join(ROOT, 'grafana', 'README.md'),
      ...filesUnder(join(ROOT, 'packages'), /^README\.md$/).filter((f) => !f.includes('node_modules')),
    ];
    const secretOnCommandLine: Array<[string, RegExp]> = [
      ['a MySQL password passed with -p/--password', /\b(?:mysql|mariadb)\b[^\n]*\s(?:-p[^\s`]|--password=)/],
      ['a password in --init-command', /--init-command=[^\n]*password/i],
      ['a token after --token', /--token[= ]+["']?[$A-Za-z0-9]/],
      ['a database URL with a password after --db', /--db[= ]+["']?mysql:\/\/[^:\s/]+:[^@\s]+@/],
      ['a secret in kubectl --from-literal', /--from-literal=[A-Z_]*(?:TOKEN|PASSWORD|DB_URL)=/],
    ];
    const found = docs.flatMap((f) => {
      const text = readFileSync(f, 'utf8').replace(/\\\n/g, ' ');
      return secretOnCommandLine.filter(([, re]) => re.test(text)).map(([what]) => `${f.slice(ROOT.length)}: ${what}`);
    });
    expect(found).toEqual([]);
  });
});
