import { describe, expect, it } from 'vitest';
import { xmlText } from './markup.js';

describe('xmlText', () => {
  it('escapes markup and drops characters XML 1.0 cannot hold', () => {
    expect(xmlText(`a<b>&"c'\u0001\u0007d\ud800`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d');
  });
});
