import { CredentialSchema, Redactor, type Credential } from '@userprobe/shared';

/*
 * What a session's evidence must never hold by value: the agent's own
 * controller token and every credential the target profile names, as this
 * agent's environment resolves them. A credential left to its profile
 * `default` is not a secret (the schema allows defaults only for non-secrets,
 * and the value is in the profile itself), so only values read from the
 * environment are redacted by value; fields named like passwords are
 * redacted by name whatever their value.
 */

/** Pure: every credential reference (`{ env, default? }`) anywhere in a profile. */
export function credentialRefs(profile: unknown): Credential[] {
  const found: Credential[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const c = CredentialSchema.safeParse(v);
    if (c.success) {
      found.push(c.data);
      return;
    }
    Object.values(v).forEach(visit);
  };
  visit(profile);
  return found;
}

/**
 * The secrets a run's sessions redact by value: the fixed ones (the agent token) and the profile's
 * credentials read from `env`. Worked out once per run (walking the profile takes milliseconds a
 * session's start should not wait); each session's Redactor starts from them.
 */
export function runSecrets(profile: unknown, env: Readonly<Record<string, string | undefined>>, fixed: readonly string[]): string[] {
  return [...fixed, ...credentialRefs(profile).flatMap((ref) => (env[ref.env] === undefined ? [] : [env[ref.env]!]))];
}

/** A session's redactor: the fixed secrets (the agent token) and the profile's credentials read from `env`. */
export function sessionRedactor(profile: unknown, env: Readonly<Record<string, string | undefined>>, fixed: readonly string[]): Redactor {
  return new Redactor(runSecrets(profile, env, fixed));
}
