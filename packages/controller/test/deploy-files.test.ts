import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { parseMonitorConfig } from '../src/monitor/monitor-config.js';
import { AGENT_CLI, CONTROLLER_CLI, startCli, type Proc } from './processes.js';
import { tempDir } from './fixtures.js';
import {
  composeSeconds,
  composeSource,
  parseUnit,
  podSource,
  secretsOnCommandLine,
  unitValues,
  type ComposeFile,
  type Container,
  type K8sObject,
  type PodSpec,
  type Probe,
} from './deploy-manifests.js';

/*
 * No Docker engine, Kubernetes or Grafana server runs here, so the deployment
 * files are checked with what does: every YAML parses, systemd verifies the
 * units and rates the controller's sandbox, every `controller` / `agent` flag
 * they use exists in the CLI's --help, every file, folder, ConfigMap, Secret
 * key and variable they reference is really there, the monitor configs pass
 * the daemon's own validation, and the Compose health check is run against a
 * real controller.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const COMPOSE_DIR = join(DEPLOY, 'docker');
const K8S_DIR = join(DEPLOY, 'kubernetes');
const CONTROLLER_UNIT = join(DEPLOY, 'systemd', 'userprobe-controller.service');
const MAKE_CA = join(DEPLOY, 'tls', 'make-ca.sh');
/** systemd-analyze security's scale is 0 (locked down) to 10 (exposed); the issue asks for less than 5. */
const MAX_EXPOSURE = 5;
/** The daemon's bound on finishing or aborting rounds at SIGTERM is 60 s; every stop timeout leaves room past it. */
const MIN_STOP_SECONDS = 90;
const HUB_PORT = 7077;

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
  const flat = text
    .replace(/\\\n/g, ' ')
    .replace(/",\s*"/g, ' ')
    .replace(/[[\]"]/g, ' ');
  for (const m of flat.matchAll(/(?:^|[\s/])(controller|agent)(?:\/dist\/cli\.js)?\s+((?:[^\n;]|\n\s+--)*)/g)) {
    const cli = m[1] as 'controller' | 'agent';
    const args = m[2]!.split(/\s+/).filter(Boolean);
    const command = cli === 'controller' && args[0] && !args[0].startsWith('-') ? args[0] : undefined;
    found.push({ cli, command, flags: args.filter((a) => /^--[a-z]/.test(a)).map((a) => a.split('=')[0]!) });
  }
  return found;
}

/** The value after `flag` in an argument list. */
function argAfter(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

const yamlDocs = (file: string): unknown[] => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown);
const k8sObjects = (file: string): K8sObject[] => yamlDocs(file).filter((d): d is K8sObject => d !== null && typeof d === 'object');
const allK8sObjects = () => filesUnder(K8S_DIR, /\.ya?ml$/).flatMap(k8sObjects);
const compose = () => parse(readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8')) as ComposeFile;
const asArgs = (c: string[] | string | undefined): string[] => (Array.isArray(c) ? c : c === undefined ? [] : c.split(/\s+/));

/**
 * Validates a monitor.yaml with the daemon's own parser, as if it were at
 * `file` (where the deployment puts it); returns each check's target, every
 * one a real profile (the demo is for trying userprobe out, not for a deployment).
 */
function validateMonitor(raw: unknown, file: string): string[] {
  const targets = parseMonitorConfig(raw, file).checks.map((c) => c.target);
  for (const t of targets) expect(t, `${file}: a check's target`).not.toBe('demo');
  return targets;
}

describe('deployment files', () => {
  const yamlFiles = filesUnder(DEPLOY, /\.ya?ml$/);

  it('every YAML file parses', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(9);
    for (const f of yamlFiles) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        expect(doc.errors, f).toEqual([]);
      }
    }
  });

  it('systemd accepts every unit', () => {
    const units = filesUnder(join(DEPLOY, 'systemd'), /\.(service|timer)$/);
    expect(units.map((u) => basename(u)).sort()).toEqual(['userprobe-agent.service', 'userprobe-controller.service']);
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
        if (inv.flags.length === 0) continue;
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
    const file = compose();
    for (const [name, svc] of Object.entries(file.services)) {
      expect(svc.image ?? svc.build, `service ${name} has an image or a build`).toBeDefined();
      if (svc.build) expect(existsSync(join(COMPOSE_DIR, svc.build.context, svc.build.dockerfile))).toBe(true);
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('../')) expect(existsSync(join(COMPOSE_DIR, src)), `${name}: ${src}`).toBe(true);
      }
    }
    const grafanaEnv = new Set(Object.keys(file.services['grafana']!.environment ?? {}));
    const provisioning = filesUnder(join(ROOT, 'grafana', 'provisioning'), /\.ya?ml$/)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
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
      ...filesUnder(DEPLOY, /./),
      ...filesUnder(join(ROOT, 'docs'), /\.md$/),
      ...filesUnder(join(ROOT, 'sql'), /\.sql$/),
      ...filesUnder(join(ROOT, 'scripts'), /\.sh$/),
      join(ROOT, 'README.md'),
      join(ROOT, 'grafana', 'README.md'),
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

describe('the controller daemon replaces timers, loops and CronJobs (issue 13)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('nothing schedules controller runs or retention any more: no timer, no CronJob or Job, no shell loop', () => {
    expect(filesUnder(DEPLOY, /\.timer$/)).toEqual([]);
    const kinds = allK8sObjects().map((o) => o.kind);
    expect(kinds).not.toContain('CronJob');
    expect(kinds).not.toContain('Job');
    const commands: Array<[string, string]> = [
      ...filesUnder(join(DEPLOY, 'systemd'), /\.service$/).flatMap((f) => {
        const u = parseUnit(readFileSync(f, 'utf8'));
        return unitValues(u, 'Service', 'ExecStart').map((c) => [basename(f), c] as [string, string]);
      }),
      ...Object.entries(compose().services).map(([n, s]) => [`compose ${n}`, [...asArgs(s.entrypoint), ...asArgs(s.command)].join(' ')] as [string, string]),
      ...allK8sObjects().flatMap((o) =>
        podSpecs(o).flatMap((p) =>
          p.containers.map((c) => [`${o.kind} ${o.metadata.name}`, [...(c.command ?? []), ...(c.args ?? [])].join(' ')] as [string, string]),
        ),
      ),
    ];
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const [where, cmd] of commands) {
      expect(cmd, where).not.toMatch(/\bwhile\b|\bsleep\b|\bcontroller(?:\/dist\/cli\.js)? (?:run|retention)\b/);
    }
    // One long-running controller per deployment, and it is the daemon.
    const serving = commands.filter(([, c]) => /\bcontroller(?:\/dist\/cli\.js)? serve\b/.test(c));
    expect(serving.map(([w]) => w).sort()).toEqual(['Deployment userprobe-controller', 'compose controller', 'userprobe-controller.service']);
    for (const [where, c] of serving) expect(c, where).toMatch(/ serve --config \S+monitor\.yaml/);
  });

  it('no secret reaches a command line: systemd, Compose and Kubernetes commands take them from the environment', () => {
    // The detector itself, on lines that do leak.
    expect(secretsOnCommandLine('systemd', 'node cli.js serve --token abc')).toEqual(['the flag --token']);
    expect(secretsOnCommandLine('systemd', 'node cli.js serve --db ${PROBE_DB_URL}')).toHaveLength(2);
    expect(secretsOnCommandLine('compose', 'controller serve x${PROBE_OPERATOR_TOKEN}')).toEqual([
      'the variable PROBE_OPERATOR_TOKEN expanded into the arguments',
    ]);
    expect(secretsOnCommandLine('compose', 'sh -c "printf %s $$GRAFANA_DB_PASSWORD | od"')).toEqual([]);
    expect(secretsOnCommandLine('kubernetes', 'agent --x $(PROBE_TOKEN)')).toHaveLength(1);

    const lines: Array<[string, 'systemd' | 'compose' | 'kubernetes', string]> = [];
    for (const f of filesUnder(join(DEPLOY, 'systemd'), /\.service$/)) {
      const u = parseUnit(readFileSync(f, 'utf8'));
      for (const k of ['ExecStartPre', 'ExecStart', 'ExecStartPost', 'ExecReload', 'ExecStop']) {
        for (const v of unitValues(u, 'Service', k)) lines.push([`${basename(f)} ${k}`, 'systemd', v]);
      }
    }
    for (const [n, s] of Object.entries(compose().services)) {
      lines.push([`compose ${n}`, 'compose', [...asArgs(s.entrypoint), ...asArgs(s.command)].join(' ')]);
      if (s.healthcheck) lines.push([`compose ${n} healthcheck`, 'compose', s.healthcheck.test.join(' ')]);
    }
    for (const o of allK8sObjects()) {
      for (const c of podSpecs(o).flatMap((p) => p.containers)) {
        lines.push([`${o.metadata.name}/${c.name}`, 'kubernetes', [...(c.command ?? []), ...(c.args ?? [])].join(' ')]);
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe])
          if (p?.exec) lines.push([`${o.metadata.name}/${c.name} probe`, 'kubernetes', p.exec.command.join(' ')]);
      }
    }
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const found = lines.flatMap(([where, format, line]) => secretsOnCommandLine(format, line).map((what) => `${where}: ${what}`));
    expect(found).toEqual([]);
  });

  it('systemd: userprobe-controller.service runs serve --config as a restartable, reloadable service with its secrets in a 0600 environment file', () => {
    const u = parseUnit(readFileSync(CONTROLLER_UNIT, 'utf8'));
    const one = (key: string) => {
      const v = unitValues(u, 'Service', key);
      expect(v, `${key}= once`).toHaveLength(1);
      return v[0]!;
    };
    const exec = one('ExecStart').split(' ');
    expect(exec.slice(0, 3)).toEqual(['/usr/bin/node', '/opt/userprobe/packages/controller/dist/cli.js', 'serve']);
    expect(argAfter(exec, '--config')).toBe('/etc/userprobe/monitor.yaml');
    expect(argAfter(exec, '--port')).toBe(String(HUB_PORT));
    expect(argAfter(exec, '--out')).toMatch(new RegExp(`^/var/lib/${one('StateDirectory')}/`));
    expect(one('Type')).toBe('simple');
    expect(one('Restart')).toBe('on-failure');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(MIN_STOP_SECONDS);
    expect(one('User')).not.toBe('root');
    // The environment file's own instructions say 0600, and name every secret of the contract.
    const envFile = one('EnvironmentFile');
    expect(envFile).toBe('/etc/userprobe/controller.env');
    const example = readFileSync(join(DEPLOY, 'systemd', 'controller.env.example'), 'utf8');
    expect(example).toMatch(/Mode 0600/);
    for (const v of ['PROBE_TOKEN', 'PROBE_OPERATOR_TOKEN', 'PROBE_DB_URL', 'PROBE_SLACK_WEBHOOK_URL'])
      expect(example, v).toMatch(new RegExp(`^#? ?${v}=`, 'm'));
    // The TLS pair comes through LoadCredential= (%d): every credential the command names is loaded.
    const creds = new Map(unitValues(u, 'Service', 'LoadCredential').map((v) => v.split(':') as [string, string]));
    for (const flag of ['--tls-cert', '--tls-key']) {
      const m = /^%d\/(.+)$/.exec(argAfter(exec, flag) ?? '');
      expect(m, `${flag} reads a credential`).not.toBeNull();
      expect(creds.get(m![1]!), `${flag}: LoadCredential=${m![1]}:…`).toMatch(/^\/etc\/userprobe\/tls\//);
    }
  });

  it(`systemd: systemd-analyze security rates userprobe-controller.service below ${MAX_EXPOSURE}, and deploy/README.md states the figure`, (ctx) => {
    const version = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    ctx.skip(version.error !== undefined, 'systemd-analyze is not installed (Debian: the systemd package), so the sandbox cannot be rated here');
    const dir = mkdtempSync(join(tmpdir(), 'userprobe-unit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(CONTROLLER_UNIT, join(dir, basename(CONTROLLER_UNIT)));
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', basename(CONTROLLER_UNIT)], { encoding: 'utf8', cwd: dir });
    const m = /Overall exposure level for userprobe-controller\.service: (\d+\.\d+)/.exec(r.stdout);
    expect(m, `systemd-analyze security printed: ${r.stdout.slice(-500)}${r.stderr}`).not.toBeNull();
    const exposure = Number(m![1]);
    expect(exposure).toBeLessThan(MAX_EXPOSURE);
    // The README's figure is this systemd's figure (the scoring changes between systemd versions).
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    const stated = /exposure \*\*(\d+\.\d+) \("OK"\)\*\* out of 10\s+\(systemd (\d+)/.exec(readme);
    expect(stated, 'deploy/README.md states the exposure and the systemd version that measured it').not.toBeNull();
    const running = /^systemd (\d+)/.exec(version.stdout)?.[1];
    if (running === stated![2]) expect(Number(stated![1])).toBe(exposure);
  });

  it('Compose: the controller service runs serve --config with its folder mounted, publishes the hub port, checks /healthz and stops within 90 s', () => {
    const svc = compose().services['controller']!;
    const args = asArgs(svc.command);
    expect(args.slice(0, 2)).toEqual(['controller', 'serve']);
    const port = Number(argAfter(args, '--port'));
    expect(port).toBe(HUB_PORT);
    expect(svc.ports).toEqual([`\${PROBE_HUB_PORT:-${port}}:${port}`]);
    expect(composeSeconds(svc.stop_grace_period!)).toBeGreaterThanOrEqual(MIN_STOP_SECONDS);
    expect(svc.restart).toBe('unless-stopped');
    for (const v of ['PROBE_TOKEN', 'PROBE_OPERATOR_TOKEN', 'PROBE_DB_URL', 'PROBE_SLACK_WEBHOOK_URL'])
      expect(Object.keys(svc.environment ?? {}), v).toContain(v);
    // Every file the command reads is mounted from the repository or from what the README has you create.
    const configPath = argAfter(args, '--config')!;
    const config = composeSource(COMPOSE_DIR, svc, configPath);
    expect(config && 'host' in config && existsSync(config.host), `${configPath} comes from a file in deploy/docker`).toBe(true);
    const revoked = composeSource(COMPOSE_DIR, svc, argAfter(args, '--revoked-agents')!);
    expect(revoked && 'host' in revoked && existsSync(revoked.host)).toBe(true);
    for (const flag of ['--tls-cert', '--tls-key']) {
      const src = composeSource(COMPOSE_DIR, svc, argAfter(args, flag)!);
      expect(src && 'host' in src && src.host.startsWith(join(COMPOSE_DIR, 'tls') + '/'), flag).toBe(true);
    }
    expect(composeSource(COMPOSE_DIR, svc, argAfter(args, '--out')!)).toEqual({ volume: 'results' });
    expect(
      (svc.volumes ?? []).some((v) => v.includes('ca.key') || /^\.\/tls:/.test(v)),
      'the CA key stays on the host',
    ).toBe(false);
    // The monitor config validates, and its targets are mounted where the command looks.
    const monitorHost = (config as { host: string }).host;
    const targets = validateMonitor(parse(readFileSync(monitorHost, 'utf8')), configPath);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) {
      const src = composeSource(COMPOSE_DIR, svc, t);
      expect(src && 'host' in src, `${t} is mounted from the host`).toBe(true);
      expect(readFileSync(join(COMPOSE_DIR, '.gitignore'), 'utf8'), `${t} (your tenant's profile) is not committed`).toContain(
        (src as { host: string }).host.slice(COMPOSE_DIR.length + 1),
      );
    }
    // Locations name the label the Compose agents start with.
    const agentLabels = Object.values(compose().services)
      .filter((s) => asArgs(s.command)[0] === 'agent')
      .map((s) => argAfter(asArgs(s.command), '--labels'));
    expect(agentLabels.length).toBeGreaterThanOrEqual(2);
    const raw = parse(readFileSync(monitorHost, 'utf8')) as { checks: Array<{ locations?: Record<string, string[]> }> };
    for (const c of raw.checks) {
      for (const [key, values] of Object.entries(c.locations ?? {})) {
        for (const v of values)
          expect(
            agentLabels.map((l) => l!.replace(/\$\{[A-Z_]+:-([^}]+)\}/, '$1')),
            `${key}=${v} is an agent's label`,
          ).toContain(`${key}=${v}`);
      }
    }
    // The health check: no token, the hub's own scheme and port, and the image's CA for its certificate.
    const hc = svc.healthcheck!;
    expect(hc.test[0]).toBe('CMD');
    expect(hc.test.join(' ')).toContain(`https://localhost:${port}/healthz`);
    expect(hc.test.join(' ')).not.toMatch(/Authorization|TOKEN/);
    expect(composeSource(COMPOSE_DIR, svc, /NODE_EXTRA_CA_CERTS=(\S+)/.exec(hc.test.join(' '))![1]!)).toEqual({ host: join(COMPOSE_DIR, 'tls', 'ca.crt') });
    expect(composeSeconds(hc.timeout!)).toBeLessThan(composeSeconds(hc.interval!));
    // A fresh named volume takes its owner from the image's folder there: the Dockerfile makes each one the user's.
    const dockerfile = readFileSync(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8');
    for (const [name, s] of Object.entries(compose().services)) {
      if (s.image !== 'userprobe:latest') continue;
      for (const v of s.volumes ?? []) {
        const [src, dst] = v.split(':') as [string, string];
        if (!/^[./$]/.test(src))
          expect(dockerfile, `${name}: volume ${src} at ${dst}`).toMatch(new RegExp(`install -d -o userprobe -g userprobe -m 700 ${dst}\\s`));
      }
    }
    // Neither the secrets nor the config folder go into the image.
    const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['deploy/docker/.env', 'deploy/docker/tls', 'deploy/docker/config']) expect(dockerignore, p).toContain(p);
  });

  it('Compose: the health check passes against a running controller daemon and fails on a certificate it does not trust', async () => {
    const tmp = await tempDir('userprobe-healthcheck-');
    cleanups.push(tmp.cleanup);
    const tls = join(tmp.dir, 'tls');
    const otherTls = join(tmp.dir, 'other');
    for (const d of [tls, otherTls]) {
      const r = spawnSync('bash', [MAKE_CA, '-o', d, 'controller'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    // One check the loopback machine cannot run (no agent has its label): the daemon idles, serving the hub and the API.
    const monitor = join(tmp.dir, 'monitor.yaml');
    writeFileSync(monitor, 'checks:\n  - name: chat\n    scenario: chat-load\n    target: demo\n    interval: 1h\n    locations: { region: [nowhere] }\n');
    const serve: Proc = startCli(
      [
        'serve',
        '--config',
        monitor,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--out',
        join(tmp.dir, 'results'),
        '--tls-cert',
        join(tls, 'server.crt'),
        '--tls-key',
        join(tls, 'server.key'),
      ],
      { PROBE_TOKEN: 'deploy-files-master-secret', PROBE_OPERATOR_TOKEN: 'deploy-files-operator-token-1234' },
    );
    cleanups.push(async () => {
      if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
      await serve.exited;
    });
    const [, port] = await serve.waitFor(/controller listening on https:\/\/127\.0\.0\.1:(\d+)/, 'stdout');

    const test = compose().services['controller']!.healthcheck!.test.slice(1);
    const run = (ca: string) => {
      const argv = test.map((a) => a.replace('/etc/userprobe/tls/ca.crt', ca).replace(`https://localhost:${HUB_PORT}/`, `https://localhost:${port}/`));
      expect(argv.join(' '), 'the health check was pointed at this controller').toContain(`https://localhost:${port}/healthz`);
      return spawnSync(argv[0]!, argv.slice(1), {
        encoding: 'utf8',
        timeout: 15_000,
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
      });
    };
    const ok = run(join(tls, 'ca.crt'));
    expect(ok.status, `health check: ${ok.stderr}`).toBe(0);
    expect(run(join(otherTls, 'ca.crt')).status, 'another CA: the certificate does not verify').toBe(1);

    // Kubernetes' probe: HTTPS without verifying the certificate, any 2xx/3xx passes.
    const probe = readK8sController().container.readinessProbe!.httpGet!;
    const status = await new Promise<number>((resolve, reject) => {
      httpsGet({ host: '127.0.0.1', port: Number(port), path: probe.path, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(200);
  });

  it('Kubernetes: the controller is a single Recreate Deployment with probes on /healthz, a locked-down securityContext, resources and 90 s to stop', () => {
    const { deployment, pod, container } = readK8sController();
    const spec = deployment.spec as { replicas: number; strategy: { type: string }; selector: { matchLabels: Record<string, string> } };
    expect(spec.replicas).toBe(1);
    expect(spec.strategy.type).toBe('Recreate');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(MIN_STOP_SECONDS);
    expect(pod.automountServiceAccountToken).toBe(false);

    const args = [...(container.command ?? []), ...(container.args ?? [])];
    expect(args.slice(0, 2)).toEqual(['controller', 'serve']);
    const port = Number(argAfter(args, '--port'));
    const portName = container.ports?.find((p) => p.containerPort === port)?.name;
    expect(portName, `a named containerPort ${port}`).toBeDefined();
    const tls = argAfter(args, '--tls-cert') !== undefined;
    expect(tls).toBe(true);
    for (const [which, probe] of [
      ['startup', container.startupProbe],
      ['readiness', container.readinessProbe],
      ['liveness', container.livenessProbe],
    ] as Array<[string, Probe | undefined]>) {
      expect(probe?.httpGet, `${which} probe`).toMatchObject({ path: '/healthz', scheme: tls ? 'HTTPS' : 'HTTP' });
      expect([port, portName], `${which} probe port`).toContain(probe!.httpGet!.port);
    }

    // The Dockerfile's numeric user, so runAsNonRoot can be checked by the kubelet.
    const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8'));
    expect(user, 'the Dockerfile has a numeric USER uid:gid').not.toBeNull();
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(user![1]),
      runAsGroup: Number(user![2]),
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(Number(user![1])).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });

    // A read-only root: what the controller writes is on emptyDirs.
    for (const path of [argAfter(args, '--out')!, '/tmp']) expect(podSource(pod, container, path), path).toMatchObject({ kind: 'emptyDir' });

    // The Service agents dial selects this pod and reaches the hub port.
    const service = allK8sObjects().find((o) => o.kind === 'Service' && o.metadata.name === 'userprobe-controller')!;
    const svcSpec = service.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: number | string }> };
    expect(svcSpec.selector).toEqual(spec.selector.matchLabels);
    expect(svcSpec.ports).toHaveLength(1);
    expect([port, portName]).toContain(svcSpec.ports[0]!.targetPort);
    const agentUrl = agentEnv('PROBE_CONTROLLER_URL');
    expect(agentUrl).toBe(`https://${service.metadata.name}:${svcSpec.ports[0]!.port}`);
  });

  it("Kubernetes: every file the controller reads comes from a ConfigMap or Secret that is defined, the monitor config validates, and the secret example holds the contract's keys", () => {
    const { pod, container } = readK8sController();
    const args = [...(container.command ?? []), ...(container.args ?? [])];
    const objects = allK8sObjects();
    // Created with kubectl from files (deploy/README.md, Kubernetes) rather than defined in a manifest.
    const createdByKubectl = new Map([['secret/userprobe-controller-tls', ['tls.crt', 'tls.key']]]);
    const keysOf = (kind: 'configMap' | 'secret', name: string): string[] => {
      const made = createdByKubectl.get(`${kind}/${name}`);
      if (made) return made;
      const o = objects.find((x) => x.kind === (kind === 'configMap' ? 'ConfigMap' : 'Secret') && x.metadata.name === name);
      expect(o, `${kind} ${name} is defined in deploy/kubernetes`).toBeDefined();
      return Object.keys({ ...o!.data, ...o!.stringData });
    };
    const contentOf = (path: string): string => {
      const src = podSource(pod, container, path);
      expect(src, `${path} is mounted`).toBeDefined();
      expect(src!.kind, path).not.toBe('emptyDir');
      const { kind, name, key } = src as { kind: 'configMap' | 'secret'; name: string; key: string };
      expect(keysOf(kind, name), `${path}: ${kind} ${name} has ${key}`).toContain(key);
      const o = objects.find((x) => x.metadata.name === name);
      return o?.data?.[key] ?? o?.stringData?.[key] ?? '';
    };
    for (const flag of ['--tls-cert', '--tls-key', '--revoked-agents']) contentOf(argAfter(args, flag)!);
    const configPath = argAfter(args, '--config')!;
    const targets = validateMonitor(parse(contentOf(configPath)), configPath);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) contentOf(t);
    // Locations name the label the cluster's agents start with.
    const agentLabels = /--labels (\S+)/.exec(agentCommand())![1]!;
    const raw = parse(contentOf(configPath)) as { checks: Array<{ locations?: Record<string, string[]> }> };
    expect(raw.checks.flatMap((c) => Object.entries(c.locations ?? {}).flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`)))).toContain(agentLabels);
    // The files are mounted read-only, not with subPath (a subPath mount never sees an edited ConfigMap).
    for (const m of container.volumeMounts ?? []) expect(m.subPath, m.mountPath).toBeUndefined();
    // Every secret of the contract is in the Secret the controller's environment comes from.
    const envSecrets = (container.envFrom ?? []).map((e) => e.secretRef?.name).filter((n): n is string => n !== undefined);
    expect(envSecrets).toEqual(['userprobe']);
    expect(keysOf('secret', 'userprobe').sort()).toEqual(['PROBE_DB_URL', 'PROBE_OPERATOR_TOKEN', 'PROBE_SLACK_WEBHOOK_URL', 'PROBE_TOKEN']);
  });

  it('the systemd example monitor config validates, with a real target at the path the README installs it to', () => {
    const file = join(DEPLOY, 'systemd', 'monitor.example.yaml');
    const u = parseUnit(readFileSync(CONTROLLER_UNIT, 'utf8'));
    const configPath = argAfter(unitValues(u, 'Service', 'ExecStart')[0]!.split(' '), '--config')!;
    const targets = validateMonitor(parse(readFileSync(file, 'utf8')), configPath);
    expect(targets).toContain('/etc/userprobe/tenant.yaml');
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    expect(readme).toContain(`deploy/systemd/monitor.example.yaml ${configPath}`);
    expect(readme).toMatch(/your-tenant\.yaml \/etc\/userprobe\/tenant\.yaml/);
  });
});

/** Pod specs of a Deployment, StatefulSet, Job or CronJob (or none). */
function podSpecs(o: K8sObject): PodSpec[] {
  const spec = o.spec as { template?: { spec: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } } | undefined;
  if (spec?.template) return [spec.template.spec];
  if (spec?.jobTemplate) return [spec.jobTemplate.spec.template.spec];
  return [];
}

function readK8sController(): { deployment: K8sObject; pod: PodSpec; container: Container } {
  const objects = k8sObjects(join(K8S_DIR, 'controller.yaml'));
  expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  const pod = podSpecs(deployment)[0]!;
  expect(pod.containers).toHaveLength(1);
  return { deployment, pod, container: pod.containers[0]! };
}

function agentContainer(): Container {
  const set = k8sObjects(join(K8S_DIR, 'agents.yaml')).find((o) => o.kind === 'StatefulSet')!;
  return podSpecs(set)[0]!.containers[0]!;
}
const agentEnv = (name: string) => agentContainer().env?.find((e) => e.name === name)?.value;
const agentCommand = () => [...(agentContainer().command ?? []), ...(agentContainer().args ?? [])].join(' ');
