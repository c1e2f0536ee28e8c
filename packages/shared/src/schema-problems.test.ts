import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { acceptedKeys, describeFound, schemaAt, schemaProblems, valueAt } from './schema-problems.js';

const Selector = z.string().min(1).describe('a CSS selector');
const Schema = z.strictObject({
  name: z.string().min(1),
  url: z.string().url('an absolute URL'),
  widget: z.strictObject({ open: Selector, frame: Selector.optional() }),
  login: z.strictObject({ password: z.strictObject({ env: z.string() }) }).optional(),
  mode: z.enum(['a', 'b']).default('a'),
  usable: z.union([z.strictObject({ selector: Selector }), z.strictObject({ mark: z.string() })], { error: 'one of { selector }, { mark }' }).optional(),
  requests: z.strictObject({ init: z.strictObject({ url: z.string() }) }).catchall(z.strictObject({ url: z.string() })),
  tags: z.array(z.string()).optional(),
});

const problems = (input: unknown): string[] => {
  const r = Schema.safeParse(input);
  if (r.success) throw new Error('expected problems');
  return schemaProblems(Schema, r.error, input);
};

describe('schemaProblems', () => {
  it('names every problem at once: path, what was found, what is accepted', () => {
    const input = { url: 'not-a-url', widget: { frame: '' }, colour: 'blue', mode: 'c', requests: { init: { url: '/i' }, extra: { uri: 'x' } } };
    expect(problems(input)).toEqual([
      'name: missing; accepted: a string',
      'url: an absolute URL; found: "not-a-url"',
      'widget.open: missing; accepted: a CSS selector',
      'widget.frame: Too small: expected string to have >=1 characters (accepted: a CSS selector); found: ""',
      'mode: Invalid option: expected one of "a"|"b"; found: "c"',
      'requests.extra.url: missing; accepted: a string',
      'requests.extra.uri: not a field of requests.extra; accepted: url',
      'colour: not a field of the document; accepted: name, url, widget, login, mode, usable, requests, tags',
    ]);
  });

  const table: Array<[string, unknown, string]> = [
    ['a missing mapping', { name: 'n', url: 'http://x/', requests: { init: { url: '/' } } }, 'widget: missing; accepted: a mapping with open, frame'],
    ['a union that matches no option', { usable: { text: 'x' } }, 'usable: one of { selector }, { mark }; found: a mapping with key(s) text'],
    ['a list where a string is', { tags: ['a', 3] }, 'tags.1: Invalid input: expected string, received number; found: 3'],
    [
      'a secret given by value',
      { login: { password: 'hunter2' } },
      'login.password: Invalid input: expected object, received string; found: a string of 7 characters (not shown)',
    ],
    ['a secret in a mapping of its own', { login: { password: { value: 'hunter2' } } }, 'login.password.value: not a field of login.password; accepted: env'],
    ['a long value, cut', { name: 5, url: 'x'.repeat(100) }, `url: an absolute URL; found: "${'x'.repeat(60)}…"`],
  ];
  for (const [name, input, line] of table) {
    it(`says ${name}`, () => {
      expect(problems(input)).toContain(line);
    });
  }

  it('never shows a value found under a secret-looking path', () => {
    const all = problems({ login: { password: { env: 5, value: 'hunter2' } } }).join('\n');
    expect(all).not.toContain('hunter2');
  });
});

describe('the schema walk', () => {
  it('finds the schema at a path through optional, default, catchall, arrays and unions', () => {
    expect(schemaAt(Schema, ['widget', 'open'])?.description).toBe('a CSS selector');
    expect(schemaAt(Schema, ['requests', 'anything', 'url'])).toBeDefined();
    expect(schemaAt(Schema, ['usable', 'selector'])?.description).toBe('a CSS selector');
    expect(schemaAt(Schema, ['tags', 0])).toBeDefined();
    expect(schemaAt(Schema, ['nope', 'deeper'])).toBeUndefined();
    expect(acceptedKeys(schemaAt(Schema, ['usable']))).toEqual(['selector', 'mark']);
    expect(acceptedKeys(schemaAt(Schema, ['name']))).toEqual([]);
  });

  it('reads values and says what they are', () => {
    expect(valueAt({ a: { b: [1, 2] } }, ['a', 'b', 1])).toBe(2);
    expect(valueAt({ a: 1 }, ['a', 'b'])).toBeUndefined();
    expect(describeFound(undefined, [])).toBe('nothing');
    expect(describeFound(null, [])).toBe('null (an empty value)');
    expect(describeFound({}, [])).toBe('an empty mapping');
    expect(describeFound([1], [])).toBe('a list of 1 item(s)');
    expect(describeFound(true, [])).toBe('true');
    expect(describeFound('s3cr3t', ['agent', 'token'])).toBe('a string of 6 characters (not shown)');
    expect(describeFound(123456, ['login', 'password'])).toBe('a number (not shown)');
    expect(describeFound({ v: 1 }, ['apiKey'])).toBe('a mapping (not shown)');
    expect(describeFound('https://x.example/?apiKey=abc123&q=1', ['visitor', 'url'])).toBe('"https://x.example/?apiKey=[redacted]&q=1"');
  });
});
