import type { z } from 'zod';
import { Redactor, isSecretName } from './redact.js';

/*
 * Every problem of a document that failed its schema, said so that a user fixes them all in
 * one round: each line names the field's path, what was found there and what is accepted.
 * Used for target profiles (profile.ts); pure.
 */

/** Longest path segment or found string shown (a key or value may come from anyone: it may be huge). */
const MAX_SHOWN = 60;
/** Shown strings lose what looks like a secret inside them (`?apiKey=…`, `"token": "…"`, `Bearer …`). */
const redactor = new Redactor();

const shown = (s: string): string => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);

/** Pure: a schema issue's path as `a.b.0.c`, each segment cut to a readable length. */
export const pathText = (path: readonly PropertyKey[]): string => path.map((p) => shown(String(p))).join('.');

/** Pure: the value at `path` in `input` (undefined when something on the way is absent). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * Pure: what was found, in words, without echoing a secret: `"not-a-url"`, `42`, `a mapping with
 * keys value`, `a list of 2 item(s)`; under a secret-like path (a segment such as `password`,
 * `token`, `apiKey`) only its kind, `a string of 7 characters (not shown)`; a shown string without
 * what looks like a secret inside it (`?apiKey=…`).
 */
export function describeFound(value: unknown, path: readonly PropertyKey[]): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (path.some((p) => isSecretName(String(p)))) {
    const kind =
      typeof value === 'string'
        ? `a string of ${value.length} characters`
        : Array.isArray(value)
          ? 'a list'
          : typeof value === 'object'
            ? 'a mapping'
            : `a ${typeof value}`;
    return `${kind} (not shown)`;
  }
  if (typeof value === 'string') return JSON.stringify(shown(redactor.text(value)));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item(s)`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `a mapping with key(s) ${keys.map(shown).join(', ')}` : 'an empty mapping';
  }
  return typeof value;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly catchall?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Through the wrappers that do not change what a field holds (optional, default, pipe …). */
function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
  return s;
}

/** Pure: the schema that validates what sits at `path`, when the schema says (a union: its first option that has the key). */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const p of path) {
    if (!s) return undefined;
    const d = defOf(unwrap(s));
    if (d.type === 'object') s = Object.hasOwn(d.shape!, p) ? d.shape![String(p)] : d.catchall;
    else if (d.type === 'record') s = d.valueType;
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'union') s = d.options!.map((o) => schemaAt(o, [p])).find((x) => x !== undefined);
    else return undefined;
  }
  return s;
}

/** Pure: the field names an object schema accepts (all options' of a union of objects), in schema order. */
export function acceptedKeys(schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  const d = defOf(unwrap(schema));
  if (d.type === 'object') return Object.keys(d.shape!);
  if (d.type === 'union') return [...new Set(d.options!.flatMap((o) => acceptedKeys(o)))];
  return [];
}

/** What a field accepts, in words: its schema's description (`.describe(…)`), else zod's expected type. */
function accepted(schema: z.ZodType | undefined, issue: z.core.$ZodIssue): string {
  const description = schema ? unwrap(schema).description : undefined;
  if (description) return description;
  if (issue.code === 'invalid_type')
    return issue.expected === 'object' ? `a mapping with ${acceptedKeys(schema).join(', ') || 'its fields'}` : `a ${issue.expected}`;
  return issue.message;
}

/**
 * Pure: one line per problem of `error` (from `schema.safeParse(input)`), each
 * `path: what is wrong and accepted; found: what was there`; an unknown key says which keys
 * the mapping accepts. Values under secret-looking paths are described, never shown.
 */
export function schemaProblems(schema: z.ZodType, error: z.ZodError, input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const at = issue.path;
    const where = pathText(at) || '(root)';
    if (issue.code === 'unrecognized_keys') {
      const keys = acceptedKeys(schemaAt(schema, at));
      for (const key of issue.keys) {
        const name = pathText([...at, key]);
        lines.push(`${name}: not a field of ${at.length ? pathText(at) : 'the document'}${keys.length ? `; accepted: ${keys.join(', ')}` : ''}`);
      }
      continue;
    }
    const value = valueAt(input, at);
    const sub = schemaAt(schema, at);
    if (value === undefined) {
      // A custom rule's message says what it wants (e.g. one of two fields); a missing field says what it accepts.
      lines.push(issue.code === 'custom' ? `${where}: ${issue.message}` : `${where}: missing; accepted: ${accepted(sub, issue)}`);
      continue;
    }
    const description = sub ? unwrap(sub).description : undefined;
    const also = description && !issue.message.includes(description) ? ` (accepted: ${description})` : '';
    lines.push(`${where}: ${issue.message}${also}; found: ${describeFound(value, at)}`);
  }
  return lines;
}
