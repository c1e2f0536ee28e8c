import { join } from 'node:path';

/*
 * Readers for the deployment files deploy-files.test.ts checks: systemd units,
 * Compose services and Kubernetes pods, reduced to what the checks ask (which
 * file a path inside a container comes from, what a command line holds).
 */

/** A systemd unit: section → [key, value] pairs in order (continuation lines joined, comments dropped). */
export type Unit = Map<string, Array<[string, string]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Array<[string, string]> | undefined;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !section) throw new Error(`not a unit file line: ${line}`);
    section.push([
      line.slice(0, eq).trim(),
      line
        .slice(eq + 1)
        .trim()
        .replace(/\s+/g, ' '),
    ]);
  }
  return unit;
}

/** Every value of `key` in `section` (a key may repeat). */
export function unitValues(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

// ---------------------------------------------------------------- Compose

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: unknown;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; start_period?: string; retries?: number };
  stop_grace_period?: string;
  restart?: string;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** `${VAR:-default}` → default; `${VAR}` stays (it has no value here). */
function composeDefault(s: string): string {
  return s.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

/**
 * Where a path inside a Compose container comes from: a file or folder on the
 * host (relative to the compose file's folder), or a named volume.
 */
export function composeSource(composeDir: string, svc: ComposeService, containerPath: string): { host: string } | { volume: string } | undefined {
  const mounts = (svc.volumes ?? []).map((v) => {
    const [src, dst] = composeDefault(v).split(':') as [string, string];
    return { src, dst };
  });
  const m = mounts.filter(({ dst }) => containerPath === dst || containerPath.startsWith(dst + '/')).sort((a, b) => b.dst.length - a.dst.length)[0];
  if (!m) return undefined;
  const rest = containerPath.slice(m.dst.length);
  if (m.src.startsWith('.') || m.src.startsWith('/')) return { host: join(composeDir, m.src + rest) };
  return { volume: m.src };
}

/** A duration in Compose's form (90s, 1m30s, 2m) in seconds. */
export function composeSeconds(d: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a Compose duration: ${d}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

// ---------------------------------------------------------------- Kubernetes

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
export interface Probe {
  httpGet?: { path: string; port: number | string; scheme?: string };
  exec?: { command: string[] };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ containerPort: number; name?: string }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
}
interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
  projected?: { sources: Array<{ configMap?: { name: string; items?: KeyToPath[] }; secret?: { name: string; items?: KeyToPath[] } }> };
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number; seccompProfile?: { type: string } };
}

export type PodFile = { kind: 'configMap' | 'secret'; name: string; key: string } | { kind: 'emptyDir'; volume: string };

/** Where a path inside a container comes from: a ConfigMap's or Secret's key, or an emptyDir. */
export function podSource(spec: PodSpec, container: Container, path: string): PodFile | undefined {
  const mount = (container.volumeMounts ?? [])
    .filter((m) => (m.subPath ? path === m.mountPath : path === m.mountPath || path.startsWith(m.mountPath + '/')))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return undefined;
  const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume) return undefined;
  const rel = mount.subPath ?? path.slice(mount.mountPath.length + 1);
  if (volume.emptyDir) return { kind: 'emptyDir', volume: volume.name };
  const keyAt = (items: KeyToPath[] | undefined): string | undefined => (items ? items.find((i) => i.path === rel)?.key : rel);
  if (volume.configMap) {
    const key = keyAt(volume.configMap.items);
    return key === undefined ? undefined : { kind: 'configMap', name: volume.configMap.name, key };
  }
  if (volume.secret) {
    const key = keyAt(volume.secret.items);
    return key === undefined ? undefined : { kind: 'secret', name: volume.secret.secretName, key };
  }
  for (const s of volume.projected?.sources ?? []) {
    const src = s.configMap ? { kind: 'configMap' as const, ...s.configMap } : s.secret ? { kind: 'secret' as const, ...s.secret } : undefined;
    if (!src) continue;
    const key = keyAt(src.items);
    if (key !== undefined) return { kind: src.kind, name: src.name, key };
  }
  return undefined;
}

// ---------------------------------------------------------------- command lines

/** Environment variables that hold secrets: their values must never reach a command line. */
const SECRET_VAR = '[A-Z0-9_]*(?:TOKEN|PASSWORD|SECRET|DB_URL|WEBHOOK_URL)';

/**
 * What on one command line would put a secret in the process's arguments (`ps`
 * shows them): a secret flag, or a secret variable the launcher expands
 * before it starts the process — `$VAR` / `${VAR}` for systemd and Compose
 * (`$$VAR` in Compose is left to a shell inside), `$(VAR)` for Kubernetes.
 */
export function secretsOnCommandLine(format: 'systemd' | 'compose' | 'kubernetes', line: string): string[] {
  const found: string[] = [];
  for (const m of line.matchAll(/(?:^|\s)(--(?:token|db|password|operator-token|slack-webhook(?:-url)?))(?:[=\s]|$)/g)) found.push(`the flag ${m[1]}`);
  const expansion = {
    systemd: new RegExp(`\\$\\{?(${SECRET_VAR})\\b`, 'g'),
    compose: new RegExp(`(?<!\\$)\\$\\{?(${SECRET_VAR})\\b`, 'g'),
    kubernetes: new RegExp(`\\$\\((${SECRET_VAR})\\)`, 'g'),
  }[format];
  for (const m of line.matchAll(expansion)) found.push(`the variable ${m[1]} expanded into the arguments`);
  return found;
}
