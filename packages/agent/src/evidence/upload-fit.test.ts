import { describe, expect, it } from 'vitest';
import { fitUpload } from './upload-fit.js';

const LIMITS = { maxFiles: 3, maxBytes: 100, maxFileBytes: 60 };
const f = (name: string, bytes: number) => ({ name, data: Buffer.alloc(bytes) });
const names = (fs: ReadonlyArray<{ name: string }>) => fs.map((x) => x.name);

describe('fitUpload (what one evidence upload may carry)', () => {
  it.each<[string, Array<[string, number]>, string[], Array<[string, number]>]>([
    [
      'everything fits',
      [
        ['a.png', 30],
        ['b.png', 30],
        ['console.json', 10],
      ],
      ['a.png', 'b.png', 'console.json'],
      [],
    ],
    [
      'a file over the per-file limit is left out',
      [
        ['a.png', 61],
        ['console.json', 10],
      ],
      ['console.json'],
      [['a.png', 61]],
    ],
    [
      'over the count: the last files go, the console log stays',
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
        ['d', 1],
        ['console.json', 1],
      ],
      ['a', 'b', 'console.json'],
      [
        ['d', 1],
        ['c', 1],
      ],
    ],
    [
      'over the bytes: the largest goes',
      [
        ['a.png', 20],
        ['s.har', 55],
        ['b.png', 40],
      ],
      ['a.png', 'b.png'],
      [['s.har', 55]],
    ],
    [
      'a tie: the later one goes',
      [
        ['a.png', 50],
        ['s.har', 50],
        ['console.json', 5],
      ],
      ['a.png', 'console.json'],
      [['s.har', 50]],
    ],
    ['only the console log left and still too big: it goes too', [['console.json', 101]], [], [['console.json', 101]]],
  ])('%s', (_n, input, kept, left) => {
    const r = fitUpload(
      input.map(([n, b]) => f(n, b)),
      'console.json',
      LIMITS,
    );
    expect(names(r.files)).toEqual(kept);
    expect(r.left).toEqual(left.map(([name, bytes]) => ({ name, bytes })));
  });
});
